import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardProfileToJson, loadCardProfile, parseCardProfile } from './card-profile.js';
import { cardRecords, decodePhone, encodePhone, PHONE_LENGTH, withRecords } from './card-records.js';
import { cardFixture } from './profile-files.js';

describe('records written back', () => {
  it('folds decodable records into readable data and keeps the rest as raw overrides', async () => {
    const p = await loadCardProfile(cardFixture('card-2.0'));
    const files = cardRecords(p);
    const name = Buffer.alloc(30);
    Buffer.from('c0eecbc4', 'hex').copy(name); // GBK 李四
    files.get('EF06')!.set(0x09, name);
    files.get('EF05')!.set(0x07, Buffer.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09])); // not AN
    const q = withRecords(p, files);
    expect(q.holder.name).toBe('李四');
    expect(q.issuer.cardNumber).toBe(p.issuer.cardNumber);
    expect(q.recordOverrides.get('EF05')?.get(0x07)?.toString('hex')).toBe('010203040506070809');
    expect(q.recordOverrides.has('EF06')).toBe(false);
    // And back through JSON: the card would hold exactly the same records.
    const r = parseCardProfile(JSON.parse(JSON.stringify(cardProfileToJson(q))) as unknown);
    expect(cardRecords(r)).toEqual(files);
  });
});

describe('the phone number of DF01 EF06 tag 28', () => {
  it('encodes 00-padded to 15 bytes and decodes back', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9+-][0-9+\- ]{0,13}[0-9]$/), (phone) => {
        const b = encodePhone(phone);
        expect(b).toHaveLength(PHONE_LENGTH);
        expect(decodePhone(b)).toBe(phone);
      }),
    );
    expect(encodePhone('13800138000').toString('hex')).toBe('3133383030313338303030' + '00'.repeat(4));
  });

  it('is undefined when the value is not a phone (wrong length, not printable)', () => {
    expect(decodePhone(Buffer.from('1380013800'))).toBeUndefined();
    expect(decodePhone(Buffer.concat([Buffer.from([0x01, 0x02]), Buffer.alloc(13)]))).toBeUndefined();
    expect(decodePhone(Buffer.alloc(PHONE_LENGTH))).toBe('');
  });
});
