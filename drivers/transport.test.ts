import { describe, expect, it } from 'vitest';
import { exchangeWithGetResponse } from './transport.js';

/** A raw exchange scripted by a table of command-hex → response-hex, recording what was sent. */
function scripted(table: Record<string, string>) {
  const sent: string[] = [];
  const raw = (c: Buffer): Promise<Buffer> => {
    const h = c.toString('hex').toUpperCase();
    sent.push(h);
    const r = table[h];
    if (r === undefined) throw new Error(`unexpected ${h}`);
    return Promise.resolve(Buffer.from(r, 'hex'));
  };
  return { raw, sent };
}

describe('exchangeWithGetResponse (ISO 7816-4 §12.6 transport-level status words)', () => {
  it.each([
    // case, command, script, expected response
    ['plain 9000 passes through', '00A4040000', { '00A4040000': '9000' }, '9000'],
    ['61xx: one GET RESPONSE with Le = xx', '00B2010400', { '00B2010400': '6104', '00C0000004': '010203049000' }, '010203049000'],
    [
      '61xx twice: the pieces are joined in order',
      '00B2010400',
      { '00B2010400': '6102', '00C0000002': 'AABB6101', '00C0000001': 'CC9000' },
      'AABBCC9000',
    ],
    ['6Cxx on case 2: re-sent with Le = xx', '00B2010400', { '00B2010400': '6C12', '00B2010412': `${'00'.repeat(0x12)}9000` }, `${'00'.repeat(0x12)}9000`],
    ['6Cxx on case 1: Le added', '00840000', { '00840000': '6C08', '0084000008': '01020304050607089000' }, '01020304050607089000'],
    ['6Cxx on case 4: Le replaced, data kept', '00A404000201020A', { '00A404000201020A': '6C03', '00A4040002010203': '0102039000' }, '0102039000'],
    ['an error SW is returned as is, never retried', '0020000003123456', { '0020000003123456': '63C4' }, '63C4'],
    ['GET RESPONSE keeps the logical channel bits of CLA', '03B2010400', { '03B2010400': '6101', '03C0000001': '019000' }, '019000'],
  ])('%s', async (_name, cmd, table, expected) => {
    const { raw, sent } = scripted(table);
    const out = await exchangeWithGetResponse(raw, Buffer.from(cmd, 'hex'));
    expect(out.toString('hex').toUpperCase()).toBe(expected);
    // Exactly the table's commands, each once, in the table's order: nothing retried, nothing extra.
    expect(sent).toEqual(Object.keys(table));
  });

  it('stops after a bounded number of GET RESPONSEs from a card that always says 61xx', async () => {
    let n = 0;
    const out = await exchangeWithGetResponse(() => {
      n++;
      return Promise.resolve(Buffer.from('AA6101', 'hex'));
    }, Buffer.from('00B2010400', 'hex'), 8);
    expect(n).toBe(9);
    expect(out.subarray(-2).toString('hex')).toBe('6101');
  });
});
