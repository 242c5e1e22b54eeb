/**
 * Cheap checks of configuration values that the schema's types cannot express: a value still
 * holding the template's placeholder, and a secret that a guess or a dictionary would find.
 * They answer why, never the value, so an error message cannot leak a secret.
 */

// `.env.production.example` marks what to fill in as <...>; an address such as "Café <a@b.c>" is not one.
const TEMPLATE = /<[^<>@]*>/;
// The fill-me-in words other templates use, as a whole value or as one part of a URL (a password in DATABASE_URL).
const FILL_ME_IN =
  /^(change[-_ ]?(me|it|this)|replace[-_ ]?(me|this)|replace[-_ ]?with[-_ ].*|fill[-_ ]?(me|in)|your[-_ ].+|to[-_ ]?do|tbd|fixme|x{3,}|placeholder)$/i;

export function isPlaceholder(value: string): boolean {
  return TEMPLATE.test(value) || value.split(/[:/@?#=&,\s]+/).some((part) => FILL_ME_IN.test(part));
}

// Long enough that a random value contains one only by a one-in-millions chance.
const WEAK_WORDS = [
  'changeme',
  'replace',
  'placeholder',
  'example',
  'secret',
  'password',
  'passw0rd',
  'dummy',
  'default',
  'insecure',
  'development',
  'donotuse',
  'qwerty',
  'asdfgh',
  'letmein',
];
// Fewer than 7 distinct characters in 32 random hex ones happens about once in 5 billion; 10 refused
// one `openssl rand -hex 16` in ten thousand, which is a production start-up failing for nothing.
const MIN_DISTINCT = 7;

/** Why `value` is too weak for a production secret, or undefined when it passes. */
export function secretWeakness(value: string): string | undefined {
  const letters = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (WEAK_WORDS.some((word) => letters.includes(word))) return 'a dictionary word or a known default';
  if (new Set(value).size < MIN_DISTINCT) return `fewer than ${MIN_DISTINCT} distinct characters`;
  if (repeatsUnit(value)) return 'a repeated pattern';
  if (mostlyRuns(value)) return 'runs of sequential or repeated characters';
  return undefined;
}

/** "abcdefghijkl" three times over, possibly cut short. */
function repeatsUnit(value: string): boolean {
  for (let length = 1; length <= value.length / 2; length++) {
    const unit = value.slice(0, length);
    if (unit.repeat(Math.ceil(value.length / length)).startsWith(value)) return true;
  }
  return false;
}

/** "abcdefgh12345678" or "aabbccdd": more than half of the neighbours one step apart or equal. */
function mostlyRuns(value: string): boolean {
  let steps = 0;
  for (let i = 1; i < value.length; i++) {
    if (Math.abs(value.charCodeAt(i) - value.charCodeAt(i - 1)) <= 1) steps++;
  }
  return steps * 2 > value.length - 1;
}
