// Provider icons are stored by name; the console draws them as glyphs.
export const ICONS: Record<string, string> = {
  phone: "📞",
  headset: "🎧",
  sales: "💼",
  support: "🛟",
  billing: "💳",
  cart: "🛒",
  globe: "🌐",
  building: "🏢",
  health: "🩺",
  chat: "💬",
  star: "⭐",
  bolt: "⚡",
};

export function iconGlyph(name: string | null | undefined): string {
  return (name && ICONS[name]) || ICONS.phone || "📞";
}
