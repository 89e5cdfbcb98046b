import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Memo } from '../core/memo';

// Grafana variable references: ${name}, ${name:format}, ${name.field}, [[name]], [[name:format]], $name.
const VARIABLE = /\$\{([^}]*)\}|\[\[([^\]]*)\]\]|\$([A-Za-z_][A-Za-z0-9_]*)/y;
// Stands for a variable where PromQL expects an expression, a metric, a label name or a number.
const NAME_PLACEHOLDER = 'grafana_var';
// Built-in variables whose value is a number (milliseconds, seconds, a timestamp).
const NUMERIC_BUILTINS = /^__(interval_ms|range_s|range_ms|rate_interval_ms|from|to)$/;

/** An expression with Grafana variables replaced by valid PromQL, and where each character came from. */
export interface SubstitutedExpression {
  /** The expression PromQL can parse. */
  readonly text: string;
  /** The index in the original expression of the character at `index` of `text`. */
  originOf(index: number): number;
}

// Characters that change no state of the substitution below, copied as one run: outside a string
// literal anything but a variable's start, a quote or a bracket; inside one anything but its quote
// (and a backslash escapes the next character, except in backticks).
const PLAIN_RUN = /[^$[\]"'`]+/y;
const QUOTED_RUN = { '"': /(?:[^"\\]|\\[\s\S])+/y, "'": /(?:[^'\\]|\\[\s\S])+/y, '`': /[^`]+/y };

/** A piece of a substituted expression: copied from the expression at `from`, or a placeholder for the variable there. */
interface Piece {
  readonly at: number;
  readonly from: number;
  readonly copied: boolean;
}

/**
 * Replaces Grafana variables with placeholders valid where they stand, so a real PromQL parser can
 * check the rest: inside a string literal a variable is kept as is (any text is valid there); inside
 * `[...]` or after `offset` it becomes a duration (`5m`, or `5` when a unit follows, as in
 * `[${__range_s}s]`); elsewhere a numeric built-in becomes `1` and anything else an identifier, which
 * PromQL accepts as an expression, a metric name or a label name. Runs of plain characters are
 * copied whole: a loop over each character made V8 optimize this function, which cost a synth more
 * than running it (0.04 G, 2% of a warm synth's instructions).
 */
export function substituteGrafanaVariables(expr: string): SubstitutedExpression {
  let text = '';
  const pieces: Piece[] = [];
  const add = (piece: string, from: number, copied: boolean) => {
    pieces.push({ at: text.length, from, copied });
    text += piece;
  };
  let quote: keyof typeof QUOTED_RUN | undefined;
  let bracketDepth = 0;
  let i = 0;
  while (i < expr.length) {
    const run = quote ? QUOTED_RUN[quote] : PLAIN_RUN;
    run.lastIndex = i;
    if (run.test(expr)) {
      add(expr.slice(i, run.lastIndex), i, true);
      i = run.lastIndex;
      continue;
    }
    const c = expr[i];
    if (quote) {
      // The closing quote, or a backslash that ends the expression.
      if (c === quote) quote = undefined;
      add(c, i, true);
      i++;
      continue;
    }
    // Every variable starts with '$' or '[': only there is the expression worth matching.
    VARIABLE.lastIndex = i;
    const match = c === '$' || c === '[' ? VARIABLE.exec(expr) : null;
    if (match) {
      const name = (match[1] ?? match[2] ?? match[3]).split(/[:.]/)[0];
      const next = expr[i + match[0].length] ?? '';
      const durationContext = bracketDepth > 0 || /\boffset\s*$/i.test(text);
      let placeholder: string;
      if (durationContext) placeholder = /[a-z]/i.test(next) ? '5' : '5m';
      else if (NUMERIC_BUILTINS.test(name)) placeholder = '1';
      else placeholder = NAME_PLACEHOLDER;
      add(placeholder, i, false);
      i += match[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '[') bracketDepth++;
    else if (c === ']') bracketDepth = Math.max(0, bracketDepth - 1);
    add(c, i, true);
    i++;
  }
  const originOf = (index: number): number => {
    let piece = pieces[0];
    for (const next of pieces) {
      if (next.at > index) break;
      piece = next;
    }
    return piece === undefined ? index : piece.copied ? piece.from + index - piece.at : piece.from;
  };
  return { text, originOf };
}

/** The part of @prometheus-io/lezer-promql's parser used here. */
interface PromQLParser {
  parse(input: string): { iterate(spec: { enter: (node: { type: { isError: boolean }; from: number }) => false | undefined }): void };
  configure(config: { strict: boolean }): PromQLParser;
}

let parser: PromQLParser | undefined;
let strictParser: PromQLParser | undefined;
// Loading the parser and its first (cold) parses cost tens of ms: only synths with expressions
// the parse cache below does not vouch for pay for it.
function promqlParser(): PromQLParser {
  if (!parser) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      parser = (require('@prometheus-io/lezer-promql') as { parser: PromQLParser }).parser;
    } catch (error) {
      throw new Error(`checking dashboard PromQL needs the package @prometheus-io/lezer-promql (a dependency of cdk8s-platform-stack): ${(error as Error).message}`);
    }
  }
  return parser;
}

/** Where an expression stops being PromQL: an index into it, or its end. */
type Verdict = { readonly at: number } | 'empty' | 'ends-early' | 'ok';

// The same dashboards are checked once per environment: parse each distinct expression once.
const verdicts = new Memo<string, Verdict>();

/**
 * Checks that a PromQL expression (which may hold Grafana variables) parses. Returns undefined when
 * it does, else what is wrong and where, as a character position in the text `expr` was cut from
 * (`offset` is where it starts there).
 */
export function promqlSyntaxError(expr: string, offset = 0): string | undefined {
  const verdict = verdicts.get(expr, () => findSyntaxError(expr));
  if (verdict === 'ok') return undefined;
  if (verdict === 'empty') return 'is empty';
  if (verdict === 'ends-early') return 'is not valid PromQL: it ends too early (an unclosed bracket, or a missing operand?)';
  return `is not valid PromQL: syntax error at character ${offset + verdict.at + 1}, near '${expr.slice(verdict.at, verdict.at + 20)}'`;
}

function findSyntaxError(expr: string): Verdict {
  const substituted = substituteGrafanaVariables(expr);
  if (substituted.text.trim() === '') return 'empty';
  const key = promqlParseCacheKey(substituted.text);
  if (parseRecord?.has(key)) return 'ok';
  // Strict, the parser throws where the lenient one would start recovering, so an expression that
  // parses needs no walk of its tree looking for error nodes (most of a cold check's time).
  strictParser ??= promqlParser().configure({ strict: true });
  try {
    strictParser.parse(substituted.text);
    return parsed(key);
  } catch {
    // Not PromQL: the lenient parse below finds the error node whose position is reported.
  }
  let errorAt = -1;
  promqlParser().parse(substituted.text).iterate({
    enter: (node) => {
      if (errorAt >= 0) return false;
      if (node.type.isError) errorAt = node.from;
      return undefined;
    },
  });
  if (errorAt < 0) return parsed(key);
  if (errorAt >= substituted.text.length) return 'ends-early';
  return { at: substituted.originOf(errorAt) };
}

/** Records that the expression of parse cache key `key` parsed. */
function parsed(key: string): 'ok' {
  parseRecord?.add(key);
  return 'ok';
}

/**
 * Expressions known to parse, kept by a program across runs: a synth whose dashboards did not
 * change then loads no parser. Keys are `promqlParseCacheKey`s; a record holds those of one parser
 * version (`promqlParserVersion()`), and only successes, so every error is found and reported afresh.
 */
export interface PromqlParseRecord {
  has(key: string): boolean;
  add(key: string): void;
}

let parseRecord: PromqlParseRecord | undefined;

/** The parse cache's key of an expression, once Grafana variables are substituted. */
export function promqlParseCacheKey(substitutedText: string): string {
  return createHash('sha256').update(substitutedText).digest('hex').slice(0, 32);
}

/** The installed parser's version, which a parse cache file must be keyed by (undefined if it cannot be found). */
export function promqlParserVersion(): string | undefined {
  try {
    const entry = require.resolve('@prometheus-io/lezer-promql');
    return (JSON.parse(fs.readFileSync(path.resolve(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Opt-in: consults `record` before parsing an expression and adds each one that parses; undefined
 * turns it off. The library itself keeps verdicts in this process only and writes nothing; this
 * repository's synth keeps them in the index of its output folder (scripts/synth-index.js).
 */
export function recordPromqlParses(record: PromqlParseRecord | undefined): void {
  parseRecord = record;
}

/** Forgets every verdict held in memory, as a new process would (for tests of the cache). */
export function forgetPromqlVerdicts(): void {
  verdicts.clear();
}
