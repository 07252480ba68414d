import type { ReactNode } from "react";
import type { Session } from "../session";

export function Header({ session, onSignOut, children }: { session: Session; onSignOut: () => void; children?: ReactNode }) {
  return (
    <header className="topbar">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <span className="brand" aria-label="fillwire">
        fill<span>wire</span>
      </span>
      <div className="topbar-right">
        {children}
        <span className="who">
          <span className="who-name">{session.sub}</span> <span className="who-role">{session.role}</span>
        </span>
        <button type="button" className="btn btn-ghost" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
