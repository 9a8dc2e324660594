import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CARD_WRITE_SERVICE_ITEM, PIN_CHECK_SERVICE_ITEM } from '../daemon/sync/wire.js';
import { CentralServer } from './server.js';

let central: CentralServer;
beforeEach(async () => {
  central = await CentralServer.start({ admin: true, serviceItems: ['11410402785096902M500201401000601'] });
});
afterEach(async () => central.close());

function request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, central.url), { method, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const op = (id: string, serviceItem = '11410402785096902M500201401000601') => ({
  id, serviceItem, kind: 'change', role: 'self-service', outcome: 'ok', state: 'completed', startedAt: '2025-01-06T02:03:04.005Z',
});
const A = '01932d8e-3c1a-7b2e-9f00-5d3c1a2b4e6f';
const B = '01932d8e-3c1a-7b2e-9f00-5d3c1a2b4e70';

describe('reference platform server', () => {
  it('accepts a batch idempotently: a second copy is a duplicate, never a second row', async () => {
    const push = { protocol: 1, terminalId: 'T', batchId: 'b1', operations: [op(A), op(B)] };
    const first = await request('POST', 'v1/operations', push);
    expect(JSON.parse(first.text)).toEqual({ batchId: 'b1', accepted: [A, B], duplicates: [], rejected: [] });
    const again = await request('POST', 'v1/operations', { ...push, batchId: 'b2' });
    expect(JSON.parse(again.text)).toEqual({ batchId: 'b2', accepted: [], duplicates: [A, B], rejected: [] });
    expect((await central.counts())).toMatchObject({ operations: 2, received: 4, duplicatesReceived: 2 });
  });

  it('rejects malformed operations and unknown service items, and bad requests as a whole', async () => {
    const res = await request('POST', 'v1/operations', { protocol: 1, terminalId: 'T', batchId: 'b', operations: [op('not-a-uuid'), op(A, '11411082005756085T400201401000202')] });
    const body = JSON.parse(res.text) as { rejected: { id: string; code: string }[] };
    expect(body.rejected.map((r) => r.code)).toEqual(['invalid', 'unknown-service-item']);
    expect((await request('POST', 'v1/operations', { protocol: 2, terminalId: 'T', batchId: 'b', operations: [] })).status).toBe(400);
    expect((await request('POST', 'v1/operations', 'nonsense')).status).toBe(400);
    expect((await central.counts()).operations).toBe(0);
  });

  it('an operation with text no database can hold (U+0000, a lone surrogate) is rejected alone, the rest stored; in terminalId or batchId the request is refused', async () => {
    const C = '01932d8e-3c1a-7b2e-9f00-5d3c1a2b4e71';
    const res = await request('POST', 'v1/operations', { protocol: 1, terminalId: 'T', batchId: 'b', operations: [op(A), { ...op(B), detail: { name: '李\u0000' } }, { ...op(C), note: 'x\ud800' }] });
    const body = JSON.parse(res.text) as { accepted: string[]; rejected: { id: string; code: string; message: string }[] };
    expect(body.accepted).toEqual([A]);
    expect(body.rejected.map((r) => [r.id, r.code])).toEqual([[B, 'invalid'], [C, 'invalid']]);
    expect(body.rejected[0]!.message).toBe("a string holds U+0000 (NUL), which the platform's database cannot store");
    expect(body.rejected[1]!.message).toContain('lone UTF-16 surrogate');
    const refused = await request('POST', 'v1/operations', { protocol: 1, terminalId: 'T\u0000', batchId: 'b2', operations: [op(B)] });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toEqual({ error: 'a string holds U+0000 (NUL)' });
    expect((await central.counts()).operations).toBe(1);
  });

  it('records bank requests idempotently on their id (docs/sync-protocol.md "Push bank requests"), and refuses a masked card', async () => {
    const card = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红', masked: false };
    const bank = (id: string, c: object = card) => ({ id, operationId: A, terminalId: 'T', operatorId: 'op-7', requestedAt: '2025-01-06T02:03:05.000Z', card: c });
    const push = { protocol: 1, revision: 2, terminalId: 'T', batchId: 'b1', bankRequests: [bank(B)] };
    const first = await request('POST', 'v1/bank-requests', push);
    expect(JSON.parse(first.text)).toEqual({ batchId: 'b1', accepted: [B], duplicates: [], rejected: [] });
    const again = await request('POST', 'v1/bank-requests', { ...push, batchId: 'b2' });
    expect(JSON.parse(again.text)).toEqual({ batchId: 'b2', accepted: [], duplicates: [B], rejected: [] });
    expect((await central.counts())).toMatchObject({ bankRequests: 1, bankRequestsReceived: 2, operations: 0 });
    expect(await central.bankRequest(B)).toEqual(bank(B));
    const masked = await request('POST', 'v1/bank-requests', { ...push, bankRequests: [bank(A, { ...card, masked: true })] });
    expect((JSON.parse(masked.text) as { rejected: { code: string }[] }).rejected.map((r) => r.code)).toEqual(['invalid']);
    expect((await request('POST', 'v1/bank-requests', { protocol: 1, terminalId: 'T', batchId: 'b' })).status).toBe(400);
    expect(JSON.parse((await request('GET', 'v1/health')).text)).toMatchObject({ protocol: 1, revision: 3, bankRequests: 1 });
  });

  it('a plain PIN check carries the no-item marker and is stored whatever the catalog; on another kind the marker is an unknown item (seed 001 line 7: 社会保障卡密码修改与重置 is change and reset)', async () => {
    const verify = { ...op(A, PIN_CHECK_SERVICE_ITEM), kind: 'verify' };
    const res = await request('POST', 'v1/operations', { protocol: 1, terminalId: 'T', batchId: 'b', operations: [verify, op(B, PIN_CHECK_SERVICE_ITEM)] });
    const body = JSON.parse(res.text) as { accepted: string[]; rejected: { id: string; code: string }[] };
    expect(body.accepted).toEqual([A]);
    expect(body.rejected).toEqual([{ id: B, code: 'unknown-service-item', message: expect.any(String) as unknown }]);
  });

  it('a card write (kind write) carries its own marker and is stored whatever the catalog; as a verify\'s item it is unknown', async () => {
    const write = { ...op(A, CARD_WRITE_SERVICE_ITEM), kind: 'write' };
    const res = await request('POST', 'v1/operations', { protocol: 1, terminalId: 'T', batchId: 'w', operations: [write, { ...op(B, CARD_WRITE_SERVICE_ITEM), kind: 'verify' }] });
    const body = JSON.parse(res.text) as { accepted: string[]; rejected: { id: string; code: string }[] };
    expect(body.accepted).toEqual([A]);
    expect(body.rejected).toEqual([{ id: B, code: 'unknown-service-item', message: expect.any(String) as unknown }]);
  });

  it('serves the hotlist in full first, then the net changes since a version', async () => {
    const c1 = '410402D156000005AAAAAAAAAAAAAAAA';
    const c2 = '410402D156000005BBBBBBBBBBBBBBBB';
    await central.hotlistAdd(c1);
    await central.hotlistAdd(c2);
    expect(JSON.parse((await request('GET', 'v1/hotlist')).text)).toEqual({ version: '2', full: true, add: [c1, c2], remove: [] });
    await central.hotlistRemove(c1);
    await central.hotlistAdd(c1);
    await central.hotlistRemove(c2);
    expect(JSON.parse((await request('GET', 'v1/hotlist?since=2')).text)).toEqual({ version: '5', full: false, add: [c1], remove: [c2] });
    expect(JSON.parse((await request('GET', 'v1/hotlist?since=99')).text)).toMatchObject({ full: true, add: [c1] });
  });

  it('injects faults for a number of requests, settable over the admin endpoint', async () => {
    expect((await request('POST', 'admin/fault', { mode: '500', times: 2 })).status).toBe(200);
    const push = { protocol: 1, terminalId: 'T', batchId: 'b', operations: [op(A)] };
    expect((await request('POST', 'v1/operations', push)).status).toBe(500);
    expect((await request('POST', 'v1/operations', push)).status).toBe(500);
    expect((await request('POST', 'v1/operations', push)).status).toBe(200);
    await central.setFault({ mode: 'malformed', times: 1 });
    const bad = await request('POST', 'v1/operations', { ...push, operations: [op(B)] });
    expect(() => JSON.parse(bad.text) as unknown).toThrow();
    expect((await central.counts()).operations).toBe(2); // stored although the answer was garbage
    await central.setFault({ mode: 'down' });
    await expect(request('GET', 'v1/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await central.setFault(null);
    expect((await request('GET', 'v1/health')).status).toBe(200);
  });
});
