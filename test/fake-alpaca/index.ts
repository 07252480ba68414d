// A fake Alpaca (Trading API v2, Market Data v2, the trade_updates stream) for tests and local runs: every
// request, whatever its host (paper-api, data, the stream), goes to one fake paper account. See routes.ts
// for the endpoints and their references, faults.ts for what can be made to go wrong, docs/alpaca.md for use.
import type { FakeEnv } from "./account";

export { FakeAlpaca } from "./account";

export default {
  async fetch(request, env) {
    return env.FAKE_ALPACA.get(env.FAKE_ALPACA.idFromName("paper-account")).fetch(request);
  },
} satisfies ExportedHandler<FakeEnv>;
