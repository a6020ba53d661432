import { formatPhone, telHref } from "../lib/format";

/** A number formatted for its country, as a `tel:` link when it can be dialled. */
export function PhoneLink({ number }: { number: string | null | undefined }) {
  const href = telHref(number);
  const text = formatPhone(number);
  if (!href) return <>{text}</>;
  return (
    <a href={href} className="phone" title={`Call ${text}`}>
      {text}
    </a>
  );
}
