import { useEffect, useRef } from "react";

// Escape closes the topmost drawer or dialog, wherever the focus is (a
// disabled button or a re-render can leave it on <body>).
const stack: { current: () => void }[] = [];

function onKey(e: KeyboardEvent) {
  if (e.key !== "Escape" || e.defaultPrevented) return;
  const top = stack[stack.length - 1];
  if (!top) return;
  e.preventDefault();
  top.current();
}

export function useEscape(onClose: () => void): void {
  const ref = useRef(onClose);
  useEffect(() => {
    ref.current = onClose;
  });
  useEffect(() => {
    const entry = ref;
    stack.push(entry);
    if (stack.length === 1) window.addEventListener("keydown", onKey);
    return () => {
      const i = stack.lastIndexOf(entry);
      if (i >= 0) stack.splice(i, 1);
      if (stack.length === 0) window.removeEventListener("keydown", onKey);
    };
  }, []);
}
