/**
 * Where each value of a JSON document sits in its text, so a diagnostic about `data.labels[2]`
 * can underline exactly that string. A small recursive-descent scanner (JSON with comments
 * tolerated, as VS Code's JSON editor allows them); on malformed text it returns what it located
 * so far, since the JSON language service already reports syntax errors.
 */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Keys are paths like "data.labels.2" (array indices as numbers); "" is the whole document. */
export type SpanMap = Map<string, Span>;

export function locateJson(text: string): SpanMap {
  const spans: SpanMap = new Map();
  let pos = 0;

  const skip = () => {
    for (;;) {
      while (pos < text.length && /\s/.test(text[pos])) pos++;
      if (text.startsWith("//", pos)) {
        const end = text.indexOf("\n", pos);
        pos = end < 0 ? text.length : end + 1;
      } else if (text.startsWith("/*", pos)) {
        const end = text.indexOf("*/", pos + 2);
        pos = end < 0 ? text.length : end + 2;
      } else {
        return;
      }
    }
  };
  const fail = (): never => {
    throw new Malformed();
  };
  const string = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === "\\" ? 2 : 1;
    if (pos >= text.length) fail();
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      return fail();
    }
  };
  const value = (path: string): void => {
    skip();
    const start = pos;
    const c = text[pos];
    if (c === "{") {
      pos++;
      skip();
      if (text[pos] === "}") pos++;
      else
        for (;;) {
          skip();
          if (text[pos] !== '"') fail();
          const key = string();
          skip();
          if (text[pos] !== ":") fail();
          pos++;
          value(path ? `${path}.${key}` : key);
          skip();
          if (text[pos] === ",") {
            pos++;
            skip();
            if (text[pos] === "}") {
              pos++;
              break;
            }
            continue;
          }
          if (text[pos] === "}") {
            pos++;
            break;
          }
          fail();
        }
    } else if (c === "[") {
      pos++;
      skip();
      let index = 0;
      if (text[pos] === "]") pos++;
      else
        for (;;) {
          value(path ? `${path}.${index}` : String(index));
          index++;
          skip();
          if (text[pos] === ",") {
            pos++;
            skip();
            if (text[pos] === "]") {
              pos++;
              break;
            }
            continue;
          }
          if (text[pos] === "]") {
            pos++;
            break;
          }
          fail();
        }
    } else if (c === '"') {
      string();
    } else {
      const match = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(pos, pos + 64));
      if (!match) fail();
      pos += match![0].length;
    }
    spans.set(path, { start, end: pos });
  };

  try {
    value("");
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
  }
  return spans;
}

class Malformed extends Error {}

/** The span of the deepest located ancestor of `path` (or the whole document). */
export function nearestSpan(spans: SpanMap, path: string): Span {
  let current = path;
  for (;;) {
    const span = spans.get(current);
    if (span) return span;
    if (current === "") return { start: 0, end: 0 };
    const dot = current.lastIndexOf(".");
    current = dot < 0 ? "" : current.slice(0, dot);
  }
}
