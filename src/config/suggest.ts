/**
 * "Did you mean ...?" for misspelt field, provider and connection names: a typo in a config
 * file should cost one glance at the hint, not a trip to the docs.
 */

/** How many edits away a name may be and still be suggested; more would suggest noise. */
const MAX_DISTANCE = 3;

/** Levenshtein distance, case-insensitive (names differ by case only in typos). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[y.length];
}

/** The candidates closest to `name` (best first), at most `max`; empty when none is close. */
export function closeNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.min(MAX_DISTANCE, Math.max(1, Math.floor(name.length / 2)));
  return [...candidates]
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .filter(({ candidate, d }) => d <= limit || candidate.toLowerCase().includes(name.toLowerCase()))
    .sort((a, b) => a.d - b.d || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

/** A hint sentence for a misspelt name, or undefined when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const close = closeNames(name, candidates);
  return close.length ? `did you mean ${close.join(" or ")}?` : undefined;
}
