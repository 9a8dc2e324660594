import { describe, expect, it } from 'vitest';
import { SYSTEM_VPCD, readerName, systemStack } from './pcsc-stack.js';

describe('the PC/SC stack', () => {
  it('the system stack is the vpcd pair of ./scripts/setup.sh: one card reader and the PSAM beside it, with its reason', async () => {
    const s = systemStack('--system-pcscd given');
    expect(s).toMatchObject({ mode: 'system', fallbackReason: '--system-pcscd given', cardReaders: ['Virtual PCD 00 00'], psamReader: 'Virtual PCD 00 01', cardPorts: [35963], psamPort: 35964, cardPattern: 'Virtual PCD 00 00' });
    expect(s.socket).toBeUndefined();
    expect(SYSTEM_VPCD.cardPort + 1).toBe(SYSTEM_VPCD.psamPort);
    await s.stop();
  });

  it('readerName names loop i by its reader, or by its number past the list', () => {
    const s = systemStack('x');
    expect(readerName(s, 0)).toBe('Virtual PCD 00 00');
    expect(readerName(s, 3)).toBe('#3');
  });
});
