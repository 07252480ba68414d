// A refusal from the server, by either door (an HTTP error body or a socket reject): its status, error
// code, message and details. No DOM here, so the pure modules (and their unit tests) can use it.

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
