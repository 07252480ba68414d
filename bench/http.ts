// A small keep-alive HTTP/1.1 JSON client (node:http: less CPU per request than fetch, which matters when
// the load generator shares two cores with the server it measures).
import { Agent, request } from "node:http";

export interface HttpResult {
  status: number;
  text: string;
  /** performance.now() when the last byte of the response arrived. */
  at: number;
}

export interface HttpOptions {
  token?: string;
  body?: unknown;
  timeoutMs?: number;
}

export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 2048 });
  private readonly host: string;
  private readonly port: number;

  constructor(base: string) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  /** Resolves with any status; rejects only on a network failure or the timeout (status 0 stands for both in tallies). */
  send(method: string, path: string, options: HttpOptions = {}): Promise<HttpResult> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    return new Promise((ok, fail) => {
      const req = request({ host: this.host, port: this.port, method, path, headers, agent: this.agent, timeout: options.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), at: performance.now() }));
        res.on("error", fail);
      });
      req.on("timeout", () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 30_000} ms`)));
      req.on("error", fail);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The `error` code of a fillwire error body, or the status when the body is not one. */
export function errorCode(result: HttpResult): string {
  try {
    const parsed: unknown = JSON.parse(result.text);
    if (parsed && typeof parsed === "object" && "error" in parsed && typeof parsed.error === "string") return `${result.status} ${parsed.error}`;
  } catch {
    // not JSON
  }
  return `${result.status}`;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
