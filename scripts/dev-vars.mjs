// Reads .dev.vars (KEY="value" lines): the documented local-development settings.
import { readFileSync } from "node:fs";

export function devVars(path = new URL("../.dev.vars", import.meta.url)) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}
