// Tag colours: a small palette that reads on light and dark backgrounds, and the text colour for a chip.

export const TAG_PALETTE: readonly { color: string; name: string }[] = [
  { color: "#d9480f", name: "orange" },
  { color: "#c92a2a", name: "red" },
  { color: "#a61e4d", name: "crimson" },
  { color: "#862e9c", name: "purple" },
  { color: "#3b5bdb", name: "blue" },
  { color: "#1971c2", name: "sky" },
  { color: "#0c8599", name: "teal" },
  { color: "#2b8a3e", name: "green" },
  { color: "#e67700", name: "amber" },
  { color: "#495057", name: "grey" },
];

export function isColor(c: string): boolean {
  return /^#[0-9a-fA-F]{6}$/.test(c.trim());
}

/** Black or white, whichever contrasts more with the background (WCAG relative luminance). */
export function textOn(color: string): "#000000" | "#ffffff" {
  if (!isColor(color)) return "#ffffff";
  const ch = (i: number) => {
    const v = parseInt(color.trim().slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const l = 0.2126 * ch(1) + 0.7152 * ch(3) + 0.0722 * ch(5);
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
}

/** The first palette colour no tag uses yet (cycling when all are taken). */
export function nextColor(used: readonly string[]): string {
  const taken = new Set(used.map((c) => c.toLowerCase()));
  const free = TAG_PALETTE.find((p) => !taken.has(p.color));
  return (free ?? TAG_PALETTE[used.length % TAG_PALETTE.length] ?? TAG_PALETTE[0]!).color;
}

/** `tag:"name"` (tag names cannot contain a double quote; the engine refuses them). */
export function tagQuery(name: string): string {
  return `tag:"${name.replace(/"/g, " ")}"`;
}
