// Pieces of OpenAPI route declarations that every resource shares.
import { z } from "zod";
import { ErrorBody } from "../shared/errors";

export const bearer = [{ bearerAuth: [] }];

export const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { "application/json": { schema } } });

export const authErrors = {
  401: errorResponse("Missing, expired or invalid token (UNAUTHORIZED)"),
  403: errorResponse("The token's role may not do this (FORBIDDEN)"),
};

export const OrderIdParam = z.object({
  id: z.string().min(1).max(64).meta({ param: { name: "id", in: "path" }, example: "ord_01JDXK4M6R3F5Q8ZP2W9A7TBCD" }),
});
