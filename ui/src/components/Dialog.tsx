import { useEffect, useId, useRef, type ReactNode } from "react";
import { useEscape } from "../lib/useEscape";

/** A modal dialog: focus moves in, Escape closes, focus returns on close. */
export function Dialog({
  title,
  onClose,
  children,
  footer,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEscape(onClose);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>(
      "input, select, textarea, button:not([data-close]), [tabindex]:not([tabindex='-1'])",
    );
    (first ?? ref.current)?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <>
      <div className="dialog-scrim" onClick={onClose} />
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={id} ref={ref} tabIndex={-1}>
        <header>
          <h2 id={id}>{title}</h2>
          <button data-close onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        <div className="body">{children}</div>
        {footer && <footer>{footer}</footer>}
      </div>
    </>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  return (
    <button
      type="button"
      onClick={(e) => {
        const btn = e.currentTarget;
        const done = () => {
          btn.textContent = "Copied";
          setTimeout(() => (btn.textContent = label), 1500);
        };
        if (navigator.clipboard) {
          navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
        } else {
          fallbackCopy(text, done);
        }
      }}
    >
      {label}
    </button>
  );
}

// Plain-HTTP LAN pages are not a secure context, so the Clipboard API is absent.
function fallbackCopy(text: string, done: () => void): void {
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  try {
    document.execCommand("copy");
    done();
  } finally {
    ta.remove();
  }
}
