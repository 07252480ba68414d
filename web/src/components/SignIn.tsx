// Sign in: in local development, pick one of the seeded people (the Worker signs a token only when
// DEV_LOGIN=true); anywhere, paste a token from the identity provider.
import { useEffect, useId, useState, type FormEvent } from "react";
import { ApiFailure, createApi, devLogin } from "../api";
import { money } from "../format";
import { readToken, type Role, type Session } from "../session";

type Person = { sub: string; role: Role; cash: number | null };

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (session: Session) => void }) {
  const id = useId();
  const [people, setPeople] = useState<Person[] | null | "loading">("loading");
  const [pasted, setPasted] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    devLogin.people().then(setPeople, () => setPeople(null));
  }, []);

  async function enter(token: string, who: string) {
    const session = readToken(token);
    const problem = !session ? "That is not a fillwire token: expected a JWT with sub and exp claims." : session.expiresAt <= Date.now() ? "That token has expired; get a fresh one." : null;
    if (!session || problem) {
      setError(problem);
      setBusy(null);
      return;
    }
    setBusy(who);
    setError(null);
    try {
      await createApi(() => session.token).instruments(); // the Worker, not this page, says whether it is valid
      onSignedIn(session);
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : "Could not sign in; try again.");
      setBusy(null);
    }
  }

  async function pick(person: Person) {
    setBusy(person.sub);
    setError(null);
    try {
      await enter(await devLogin.token(person.sub, person.role), person.sub);
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : "Could not sign in; try again.");
      setBusy(null);
    }
  }

  function paste(event: FormEvent) {
    event.preventDefault();
    void enter(pasted.trim(), "token");
  }

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <h1 className="brand brand-large">
          fill<span>wire</span>
        </h1>
        <p className="tagline">Order execution desk</p>
        {notice && <p className="banner banner-warn" role="status">{notice}</p>}
        {error && <p className="banner banner-error" role="alert">{error}</p>}

        {people === "loading" && <p className="loading">Looking for local accounts…</p>}
        {Array.isArray(people) && (
          <section aria-labelledby={`${id}-dev`}>
            <h2 id={`${id}-dev`}>Local development: sign in as</h2>
            <ul className="people">
              {people.map((p) => (
                <li key={p.sub}>
                  <button type="button" className="person" onClick={() => void pick(p)} disabled={busy !== null} aria-label={`Sign in as ${p.sub} (${p.role})`}>
                    <span className="person-name">{p.sub}</span>
                    <span className="person-role">{p.role}</span>
                    <span className="person-cash">{p.cash === null ? "" : money(p.cash)}</span>
                    {busy === p.sub && <span className="person-busy">Signing in…</span>}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}

        <form onSubmit={paste} className="token-form">
          <label htmlFor={`${id}-token`}>{Array.isArray(people) ? "Or paste a token" : "Paste your token from the identity provider"}</label>
          <textarea id={`${id}-token`} rows={3} value={pasted} onChange={(e) => setPasted(e.target.value)} spellCheck={false} autoComplete="off" placeholder="eyJhbGciOi…" />
          <button type="submit" className="btn btn-primary" disabled={busy !== null || pasted.trim() === ""}>
            {busy === "token" ? "Signing in…" : "Sign in with token"}
          </button>
        </form>
      </div>
    </main>
  );
}
