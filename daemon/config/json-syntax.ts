/**
 * Where a JSON text first breaks the grammar (RFC 8259), with a short reason, for config errors.
 * V8's JSON.parse messages quote a slice of the source ("Unexpected token 'x', "…" is not valid
 * JSON"), which could be a passphrase hash or a key path; this finder reports a line and a column
 * instead and never quotes the text. Used only after JSON.parse has failed.
 */
export interface JsonSyntaxProblem {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  readonly reason: { readonly zh: string; readonly en: string };
}

class Stop extends Error {
  constructor(
    readonly at: number,
    readonly zh: string,
    readonly en: string,
  ) {
    super(en);
  }
}

export function findJsonSyntaxError(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const n = text.length;
  const stop = (zh: string, en: string): never => {
    throw new Stop(i, zh, en);
  };
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expect = (ch: string, zh: string, en: string): void => {
    if (text[i] !== ch) stop(zh, en);
    i++;
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= n) stop('字符串没有结束引号', 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop('字符串中有控制字符（换行须写成 \\n）', 'control character in a string (write a line break as \\n)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) stop('\\u 后须跟 4 位十六进制数', '\\u must be followed by 4 hex digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          stop('无效的转义序列', 'invalid escape sequence');
        }
      } else {
        i++;
      }
    }
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (m === null || m[0] === '' || m[0] === '-') stop('无效的数字', 'invalid number');
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) stop('嵌套过深', 'nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop(text[i] === '}' ? '最后一项后面多了逗号' : '键名须用双引号括起', text[i] === '}' ? 'a comma after the last member' : 'a key must be a double-quoted string');
        string();
        ws();
        expect(':', '键名后面缺少冒号', 'a colon is missing after the key');
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}', '缺少逗号或右花括号 }', 'a comma or } is missing');
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') stop('最后一项后面多了逗号', 'a comma after the last element');
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']', '缺少逗号或右方括号 ]', 'a comma or ] is missing');
        return;
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (i >= n) stop('文件意外结束', 'unexpected end of the file');
    stop('此处应为一个值（字符串须加双引号）', 'a value was expected here (strings need double quotes)');
  };
  try {
    value(0);
    ws();
    if (i < n) stop('值后面还有多余内容', 'unexpected content after the value');
    return null;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const before = text.slice(0, e.at);
    const line = before.split('\n').length;
    const column = e.at - before.lastIndexOf('\n');
    return { line, column, reason: { zh: e.zh, en: e.en } };
  }
}
