import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
// What Prometheus itself accepts for durations, sizes, names and relabel regexes, checked at synth
// time so a bad value fails `cdk8s synth` instead of crash-looping the pod.

// github.com/prometheus/common/model.ParseDuration: units in this order, each at most once; "0" alone.
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** What the error message says a duration may look like. */
export const DURATION_SYNTAX = "a Prometheus duration such as 30s, 5m, 1h30m or 15d (units y w d h m s ms, largest first)";

/** Milliseconds of a Prometheus duration (`1h30m`, `15d`), or undefined when Prometheus would reject it. */
export function parsePrometheusDuration(value: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === '0') return 0;
  const match = DURATION.exec(value);
  if (!match || value === '') return undefined;
  return match.slice(1).reduce((total, amount, i) => total + (amount ? Number(amount) * DURATION_UNITS_MS[i] : 0), 0);
}

// --storage.tsdb.retention.size is parsed by alecthomas/units.ParseBase2Bytes: KB and KiB both mean 1024.
const SIZE = /^(\d+)(B|KB|MB|GB|TB|PB|EB|KiB|MiB|GiB|TiB|PiB|EiB)$/;
const SIZE_EXPONENT: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };

/** What the error message says a size may look like. */
export const SIZE_SYNTAX = 'a whole number of bytes with a unit, such as 512MB, 40GB or 1TB (B, KB, MB, GB, TB, PB, EB; powers of 1024)';

/** Bytes of a Prometheus size (`40GB`, `512MiB`), or undefined when Prometheus would reject it. */
export function parsePrometheusSize(value: string): number | undefined {
  const match = typeof value === 'string' ? SIZE.exec(value) : null;
  if (!match) return undefined;
  return Number(match[1]) * 1024 ** SIZE_EXPONENT[match[2][0]];
}

/** A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A Prometheus metric name, which recording rules produce: `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Why Prometheus would reject a relabel regex, or undefined if it compiles.
 *
 * Prometheus compiles relabel regexes with Go's RE2, anchored as `^(?:regex)$`. Node has no RE2, so
 * this compiles the regex with JavaScript's RegExp after rejecting what RE2 lacks (lookaround,
 * backreferences) and translating what JavaScript spells differently (`(?P<name>`, leading
 * `(?i)`-style flags). What remains different (POSIX classes such as `[[:alpha:]]`, `\z`, `\C`) is
 * rare in relabel rules; `promtool check config` in the test suite is the authority.
 */
export function relabelRegexProblem(regex: string): string | undefined {
  if (typeof regex !== 'string') return 'a string';
  if (/\(\?<?[=!]/.test(regex)) return 'a regular expression without lookahead or lookbehind (RE2 has neither)';
  if (/(^|[^\\])(\\\\)*\\[1-9]/.test(regex)) return 'a regular expression without backreferences such as \\1 (RE2 has none)';
  let source = regex.replace(/\(\?P</g, '(?<');
  let flags = '';
  const leadingFlags = /^\(\?([imsU]+)\)/.exec(source);
  if (leadingFlags) {
    flags = [...new Set(leadingFlags[1].replace('U', ''))].join('');
    source = source.slice(leadingFlags[0].length);
  }
  try {
    new RegExp(`^(?:${source})$`, flags);
    return undefined;
  } catch (error) {
    return `a regular expression that compiles (RE2 syntax, anchored by Prometheus as ^(?:...)$): ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

const FORMAT_UNITS: readonly [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];

/** A cdk8s Duration as Prometheus writes it: the largest unit that divides it (`15s`, `2d`, `90m`); undefined unless whole milliseconds. */
export function formatPrometheusDuration(duration: Duration): string | undefined {
  const ms = duration.toMilliseconds({ integral: false });
  if (!Number.isInteger(ms) || ms < 0) return undefined;
  if (ms === 0) return '0s';
  const [unit, factor] = FORMAT_UNITS.find(([, f]) => ms % f === 0)!;
  return `${ms / factor}${unit}`;
}

/** A cdk8s Size as Prometheus' retention size: the largest unit that divides it (`40GB`, `3481MB`; powers of 1024). */
export function formatPrometheusSize(size: Size): string {
  const bytes = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
  for (const [unit, factor] of [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}
