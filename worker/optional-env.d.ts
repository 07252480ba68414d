// Settings that are not in wrangler.toml because they are optional: set them as vars or secrets to use them.
interface Env {
  /** An identity provider's JWKS URL; when set, tokens are verified as RS256/ES256 against it. */
  JWKS_URL?: string;
}
declare namespace Cloudflare {
  interface Env {
    JWKS_URL?: string;
  }
}
