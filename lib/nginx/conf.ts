/**
 * A typed nginx.conf: a tree of directives and blocks, and the one renderer that turns it into
 * text. nginx.conf has no serialization library, so quoting lives here and nowhere else.
 */

/** `name arg1 arg2;` */
export interface NginxDirective {
  readonly kind: 'directive';
  readonly name: string;
  readonly args: readonly string[];
}

/** `name arg1 { children }` */
export interface NginxBlock {
  readonly kind: 'block';
  readonly name: string;
  readonly args: readonly string[];
  readonly children: readonly NginxNode[];
}

/** `# text`: says why, in the rendered file. */
export interface NginxComment {
  readonly kind: 'comment';
  readonly text: string;
}

/** `key value;` inside a `map` block: both sides are data, quoted as needed. */
export interface NginxMapEntry {
  readonly kind: 'entry';
  readonly key: string;
  readonly value: string;
}

export type NginxNode = NginxDirective | NginxBlock | NginxComment | NginxMapEntry;

/** A directive; numbers are rendered as decimal integers. */
export function directive(name: string, ...args: readonly (string | number)[]): NginxDirective {
  return { kind: 'directive', name, args: args.map(String) };
}

/** A block such as `http`, `server`, `location = /x`, `upstream name`, `map $a $b`. */
export function block(name: string, args: readonly (string | number)[], children: readonly (NginxNode | undefined | false)[]): NginxBlock {
  return { kind: 'block', name, args: args.map(String), children: children.filter((c): c is NginxNode => Boolean(c)) };
}

export function mapEntry(key: string, value: string): NginxMapEntry {
  return { kind: 'entry', key, value };
}

export function comment(text: string): NginxComment {
  return { kind: 'comment', text };
}

const NAME = /^[a-z_][a-z0-9_]*$/;
// Arguments made only of these need no quotes; anything else (spaces, ; { } # quotes, empty) does.
const BARE = /^[A-Za-z0-9_\-./:$@=~^*!?,+[\]()|%&]+$/;

/**
 * One argument as nginx reads it: bare when safe, else double-quoted with `"` and `\` escaped and
 * line breaks and tabs written as nginx's `\n`, `\r`, `\t` escapes. Variables (`$name`) expand
 * inside quotes too, so quoting never changes meaning.
 */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error(`nginx argument ${JSON.stringify(arg)} contains a NUL`);
  if (BARE.test(arg)) return arg;
  const escaped = arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

function renderNode(node: NginxNode, indent: string, out: string[]): void {
  if (node.kind === 'comment') {
    for (const line of node.text.split('\n')) out.push(`${indent}# ${line}`.trimEnd());
    return;
  }
  if (node.kind === 'entry') {
    out.push(`${indent}${quoteArg(node.key)} ${quoteArg(node.value)};`);
    return;
  }
  if (!NAME.test(node.name)) throw new Error(`invalid nginx directive name ${JSON.stringify(node.name)}`);
  const args = node.args.map(quoteArg).join(' ');
  // `if` takes its condition in parentheses: `if ($a = b) {`.
  const head = node.kind === 'block' && node.name === 'if' ? `if (${args})` : [node.name, args].filter(Boolean).join(' ');
  if (node.kind === 'directive') {
    out.push(`${indent}${head};`);
    return;
  }
  out.push(`${indent}${head} {`);
  for (const child of node.children) renderNode(child, `${indent}  `, out);
  out.push(`${indent}}`);
}

/** Renders a whole file: two-space indentation, one directive per line, a final newline. */
export function renderNginxConf(nodes: readonly NginxNode[]): string {
  const out: string[] = [];
  for (const node of nodes) renderNode(node, '', out);
  return `${out.join('\n')}\n`;
}
