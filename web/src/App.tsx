// Who sees what: signed out, the sign-in screen; a trader, the desk; compliance, the execution report;
// an admin, the venue's prices. A token that expires signs the person out with a note saying so.
import { useCallback, useEffect, useState } from "react";
import { clearSession, loadSession, saveSession, type Session } from "./session";
import { SignIn } from "./components/SignIn";
import { TraderDesk } from "./components/TraderDesk";
import { CompliancePage } from "./components/CompliancePage";
import { VenueAdmin } from "./components/VenueAdmin";
import { Header } from "./components/Header";

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((reason: string | null = null) => {
    clearSession();
    setSession(null);
    setNotice(reason);
  }, []);

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setNotice(null);
    setSession(next);
  }, []);

  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => signOut("Your session expired; sign in again."), Math.max(0, session.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [session, signOut]);

  if (!session) return <SignIn notice={notice} onSignedIn={signIn} />;
  const expired = () => signOut("Your session expired or was revoked; sign in again.");
  if (session.role === "trader") return <TraderDesk key={session.token} session={session} onSignOut={() => signOut()} onExpired={expired} />;
  return (
    <div className="app">
      <Header session={session} onSignOut={() => signOut()} />
      <main className={session.role === "compliance" ? "single single-wide" : "single"} id="main">
        {session.role === "compliance" ? <CompliancePage session={session} onExpired={expired} /> : <VenueAdmin session={session} onExpired={expired} />}
      </main>
    </div>
  );
}
