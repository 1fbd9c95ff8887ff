import { KilnError } from '../errors/index.js';
import type { LicenseExpression, LicenseLeaf } from './LicenseExpression.js';

/** Shown under every license expression syntax error. */
export const LICENSE_HINT =
  'write an SPDX license expression: license ids joined by AND or OR, with parentheses to group, ' +
  'e.g. MIT OR Apache-2.0, GPL-2.0-or-later WITH Classpath-exception-2.0, (MIT OR BSD-3-Clause) AND Zlib; ' +
  'a license outside the SPDX list is written LicenseRef-<name>';

type TokenKind = '(' | ')' | 'AND' | 'OR' | 'WITH' | 'word';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 1-based, for messages. */
  readonly column: number;
}

// A Map, not an object literal, so that an id such as `constructor` is not found on Object.prototype.
const OPERATORS: ReadonlyMap<string, TokenKind> = new Map([
  ['AND', 'AND'],
  ['and', 'AND'],
  ['OR', 'OR'],
  ['or', 'OR'],
  ['WITH', 'WITH'],
  ['with', 'WITH'],
]);

const IDSTRING = '[A-Za-z0-9.-]+';
const LICENSE_REF = new RegExp(`^(?:DocumentRef-${IDSTRING}:)?LicenseRef-${IDSTRING}$`);
const LICENSE_ID = new RegExp(`^(${IDSTRING})(\\+?)$`);
const EXCEPTION_ID = new RegExp(`^${IDSTRING}$`);

/**
 * Parses an SPDX license expression. Operators are `AND`, `OR` and `WITH`,
 * in upper or (as SPDX 2.x allows) lower case; `AND` binds tighter than `OR`.
 * Only the syntax is checked, not whether the ids are on the SPDX list.
 *
 * @throws KilnError `E_LICENSE` naming the expression and the token or column that is wrong.
 * @example
 * parseLicense('MIT OR Apache-2.0');
 * // { type: 'or', operands: [{ type: 'license', id: 'MIT', orLater: false, exception: undefined }, …] }
 * parseLicense('MIT OR'); // throws: cannot parse license "MIT OR": expected a license id, but the expression ends there
 */
export function parseLicense(s: string): LicenseExpression {
  const result = scanLicense(s);
  if ('problem' in result) {
    throw new KilnError('E_LICENSE', `cannot parse license ${JSON.stringify(s)}: ${result.problem}`, {
      hint: LICENSE_HINT,
    });
  }
  return result.expression;
}

/**
 * Like `parseLicense`, but returns `undefined` instead of throwing.
 *
 * @example
 * tryParseLicense('MIT')?.type; // 'license'
 * tryParseLicense('MIT/GPL');   // undefined
 */
export function tryParseLicense(s: string): LicenseExpression | undefined {
  const result = scanLicense(s);
  return 'problem' in result ? undefined : result.expression;
}

/** Thrown inside the parser only, and always caught by `scanLicense`. */
class SyntaxProblem extends Error {
  constructor(readonly problem: string) {
    super(problem);
  }
}

function scanLicense(s: string): { expression: LicenseExpression } | { problem: string } {
  try {
    const tokens = tokenize(s);
    if (tokens.length === 0) return { problem: 'it is empty' };
    const parser = new Parser(tokens);
    const expression = parser.parseOr();
    parser.expectEnd();
    return { expression };
  } catch (e) {
    if (e instanceof SyntaxProblem) return { problem: e.problem };
    throw e;
  }
}

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|[()]|[A-Za-z0-9.+:-]+|./gsu;
  for (const match of s.matchAll(pattern)) {
    const text = match[0];
    const column = (match.index ?? 0) + 1;
    if (/^\s/.test(text)) continue;
    if (text === '(' || text === ')') tokens.push({ kind: text, text, column });
    else if (/^[A-Za-z0-9.+:-]/.test(text)) tokens.push({ kind: OPERATORS.get(text) ?? 'word', text, column });
    else throw new SyntaxProblem(`unexpected character ${JSON.stringify(text)} at column ${column}`);
  }
  return tokens;
}

/**
 * Recursive descent over the SPDX grammar, lowest precedence first:
 * or := and ("OR" and)*; and := primary ("AND" primary)*;
 * primary := "(" or ")" | license ["WITH" exception].
 */
class Parser {
  private index = 0;
  // How many parentheses are open, so that a stray token's message can offer ")".
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseOr(): LicenseExpression {
    const operands = [this.parseAnd()];
    while (this.peek()?.kind === 'OR') {
      this.index++;
      operands.push(this.parseAnd());
    }
    return combine('or', operands);
  }

  expectEnd(): void {
    const token = this.peek();
    if (token !== undefined) this.unexpected(token);
  }

  private parseAnd(): LicenseExpression {
    const operands = [this.parsePrimary()];
    while (this.peek()?.kind === 'AND') {
      this.index++;
      operands.push(this.parsePrimary());
    }
    return combine('and', operands);
  }

  private parsePrimary(): LicenseExpression {
    const token = this.next();
    if (token?.kind === '(') {
      this.depth++;
      const inner = this.parseOr();
      const close = this.peek();
      if (close === undefined) throw new SyntaxProblem(`"(" at column ${token.column} is never closed`);
      if (close.kind !== ')') this.unexpected(close);
      this.index++;
      this.depth--;
      return inner;
    }
    if (token?.kind !== 'word') throw new SyntaxProblem(`expected a license id, ${found(token)}`);
    const leaf = toLicense(token);
    if (this.peek()?.kind !== 'WITH') return leaf;
    this.index++;
    const exception = this.next();
    if (exception?.kind !== 'word') {
      throw new SyntaxProblem(`expected an exception id after "WITH", ${found(exception)}`);
    }
    if (!EXCEPTION_ID.test(exception.text)) {
      throw new SyntaxProblem(
        `${JSON.stringify(exception.text)} at column ${exception.column} is not an exception id ` +
          '(letters, digits, "." and "-")',
      );
    }
    return { ...leaf, exception: exception.text };
  }

  /** Reports a token that cannot continue the expression parsed so far. */
  private unexpected(token: Token): never {
    if (token.kind === ')') throw new SyntaxProblem(`unmatched ")" at column ${token.column}`);
    if (token.kind === 'WITH') {
      throw new SyntaxProblem(
        `"WITH" at column ${token.column} must follow a single license id, ` +
          'as in GPL-2.0-or-later WITH Classpath-exception-2.0',
      );
    }
    const mixedCase = misspelledOperator(token);
    if (mixedCase !== undefined) throw new SyntaxProblem(mixedCase);
    if (token.text.startsWith('+')) {
      throw new SyntaxProblem(`"+" at column ${token.column} must be written right after a license id, as in GPL-2.0+`);
    }
    const close = this.depth > 0 ? ', OR or ")"' : ' or OR';
    throw new SyntaxProblem(`expected AND${close}, ${found(token)}`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(): Token | undefined {
    const token = this.tokens[this.index];
    if (token !== undefined) this.index++;
    return token;
  }
}

function toLicense(token: Token): LicenseLeaf {
  const mixedCase = misspelledOperator(token);
  if (mixedCase !== undefined) throw new SyntaxProblem(mixedCase);
  const { text, column } = token;
  if (text.startsWith('LicenseRef-') || text.startsWith('DocumentRef-')) {
    if (!LICENSE_REF.test(text)) {
      throw new SyntaxProblem(
        `${JSON.stringify(text)} at column ${column} is not a license reference ` +
          '(LicenseRef-<name>, optionally after DocumentRef-<document>:, with no "+")',
      );
    }
    return { type: 'license', id: text, orLater: false, exception: undefined };
  }
  const match = LICENSE_ID.exec(text);
  if (match === null) {
    throw new SyntaxProblem(
      `${JSON.stringify(text)} at column ${column} is not a license id ` +
        '(letters, digits, "." and "-", optionally followed by "+")',
    );
  }
  return { type: 'license', id: match[1] ?? '', orLater: match[2] === '+', exception: undefined };
}

/** Operators must be all upper or all lower case; `And` is almost certainly a typo, not a license. */
function misspelledOperator(token: Token): string | undefined {
  const upper = token.text.toUpperCase();
  if (token.kind !== 'word' || !OPERATORS.has(upper)) return undefined;
  return `operator ${JSON.stringify(token.text)} at column ${token.column} must be written ${upper} or ${token.text.toLowerCase()}`;
}

function found(token: Token | undefined): string {
  return token === undefined
    ? 'but the expression ends there'
    : `found ${JSON.stringify(token.text)} at column ${token.column}`;
}

/** Joins operands, lifting those of the same operator so that groups never nest needlessly. */
function combine(type: 'and' | 'or', operands: LicenseExpression[]): LicenseExpression {
  if (operands.length === 1 && operands[0] !== undefined) return operands[0];
  return { type, operands: operands.flatMap((o) => (o.type === type ? o.operands : [o])) };
}
