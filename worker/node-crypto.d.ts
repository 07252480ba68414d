// The one node:crypto function the Worker uses (nodejs_compat provides it). Declared here rather than
// pulling all of @types/node into a Workers project.
declare module "node:crypto" {
  interface Hash {
    update(data: string | Uint8Array): Hash;
    digest(encoding: "hex"): string;
  }
  export function createHash(algorithm: "sha256"): Hash;
}
