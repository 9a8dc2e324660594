/**
 * The reader of pipelined HTTP responses (socket.ts ResponseReader): it counts every answer, bodies
 * split across chunks included, and stops at an upgrade or a body that lasts until the close.
 */
import { describe, expect, it } from 'vitest';
import { ResponseReader } from './socket.js';

const answer = (status: number, body: string, extra = ''): string => `HTTP/1.1 ${status} X\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('ResponseReader', () => {
  it('reads pipelined answers fed in any chunks, with their return code', () => {
    const r = new ResponseReader([false, false, false]);
    const all = Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${answer(200, '{"ret":0}', 'x-sscard-return: 0\r\n')}${answer(401, 'no')}${answer(413, '')}`);
    for (let i = 0; i < all.length; i += 7) r.feed(all.subarray(i, i + 7));
    expect(r.statuses).toEqual([
      { status: 200, ret: '0' },
      { status: 401, ret: null },
      { status: 413, ret: null },
    ]);
  });

  it('a HEAD answer has no body; an upgrade or an answer without length ends the reading', () => {
    const head = new ResponseReader([true, false]);
    head.feed(Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n${answer(404, 'x')}`));
    expect(head.statuses.map((s) => s.status)).toEqual([200, 404]);
    const up = new ResponseReader([false, false]);
    up.feed(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\n\r\n${answer(200, '')}`));
    expect(up.statuses.map((s) => s.status)).toEqual([101]);
    const junk = new ResponseReader([false]);
    junk.feed(Buffer.from('garbage\r\n\r\n'));
    expect(junk.statuses).toEqual([]);
  });
});
