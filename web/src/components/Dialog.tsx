// A modal confirmation: a native <dialog> (focus kept inside, Escape and the backdrop close it, focus
// returns to what opened it), with a title and whatever the caller puts in it.
import { useEffect, useId, useRef, type ReactNode } from "react";

export function Dialog({ title, onClose, children, testId }: { title: string; onClose: () => void; children: (close: () => void) => ReactNode; testId?: string }) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (el && !el.open) el.showModal();
    return () => opener?.focus();
  }, []);
  const close = () => dialog.current?.close();

  return (
    <dialog ref={dialog} className="modal" aria-labelledby={`${id}-title`} onClose={onClose} onClick={(e) => e.target === dialog.current && close()} data-testid={testId}>
      <div className="modal-body">
        <h2 id={`${id}-title`}>{title}</h2>
        {children(close)}
      </div>
    </dialog>
  );
}
