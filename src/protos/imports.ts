// Finds the import statements of a .proto source, so that the loader knows which files
// to hand to the compiler. Only a scan: comments and strings are skipped properly, and
// anything malformed is left for the compiler to report with its position.

/** One `import [weak|public] "path";` statement. */
export interface ProtoImport {
  readonly path: string;
  /** 1-based line and column of the `import` keyword. */
  readonly line: number;
  readonly column: number;
}

interface Token {
  kind: "ident" | "string" | "punct";
  text: string;
  line: number;
  column: number;
}

export function scanImports(source: string): ProtoImport[] {
  const tokens = tokenize(source);
  const imports: ProtoImport[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== "ident" || t.text !== "import") continue;
    const previous = tokens[i - 1];
    if (previous !== undefined && !(previous.kind === "punct" && (previous.text === ";" || previous.text === "}"))) continue;
    let j = i + 1;
    if (tokens[j]?.kind === "ident" && (tokens[j]!.text === "weak" || tokens[j]!.text === "public")) j++;
    let path = "";
    let strings = 0;
    while (tokens[j]?.kind === "string") {
      path += tokens[j]!.text; // adjacent literals concatenate, as in protoc
      strings++;
      j++;
    }
    if (strings > 0) imports.push({ path, line: t.line, column: t.column });
  }
  return imports;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (c === "\n") {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      i += 2;
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) {
        if (source[i] === "\n") {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      i += 2;
      continue;
    }
    const column = i - lineStart + 1;
    if (c === '"' || c === "'") {
      const { value, end } = readString(source, i);
      tokens.push({ kind: "string", text: value, line, column });
      i = end;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(source[j]!)) j++;
      tokens.push({ kind: "ident", text: source.slice(i, j), line, column });
      i = j;
      continue;
    }
    tokens.push({ kind: "punct", text: c, line, column });
    i++;
  }
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", "\\": "\\", "'": "'", '"': '"', "?": "?" };

/** Reads a string literal starting at `start` (its quote); stops at the line's end if unterminated. */
function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = "";
  let i = start + 1;
  while (i < source.length && source[i] !== quote && source[i] !== "\n") {
    const c = source[i]!;
    if (c !== "\\") {
      value += c;
      i++;
      continue;
    }
    const e = source[i + 1] ?? "";
    if (e in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === "x" || e === "X") {
      const hex = /^[0-9A-Fa-f]{1,2}/.exec(source.slice(i + 2, i + 4))?.[0] ?? "";
      value += String.fromCharCode(parseInt(hex || "0", 16));
      i += 2 + hex.length;
    } else if (/[0-7]/.test(e)) {
      const oct = /^[0-7]{1,3}/.exec(source.slice(i + 1, i + 4))![0];
      value += String.fromCharCode(parseInt(oct, 8));
      i += 1 + oct.length;
    } else if (e === "u" || e === "U") {
      const len = e === "u" ? 4 : 8;
      const hex = source.slice(i + 2, i + 2 + len);
      const code = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === len ? parseInt(hex, 16) : -1;
      if (code >= 0 && code <= 0x10ffff) value += String.fromCodePoint(code);
      i += 2 + len;
    } else {
      value += e;
      i += 2;
    }
  }
  return { value, end: source[i] === quote ? i + 1 : i };
}
