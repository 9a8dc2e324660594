/**
 * The access expectations follow docs/api.md "Who may talk to the daemon" (access.ts).
 */
import { describe, expect, it } from 'vitest';
import { expectationOf } from './access.js';

describe('access expectations (docs/api.md "Who may talk to the daemon")', () => {
  it.each([
    [{ host: 'ip', origin: 'none', cred: 'token', upgrade: false, method: 'GET', target: '/status' }, { mustRefuse: false, mustAdmit: true }],
    [{ host: 'foreign', origin: 'none', cred: 'token', upgrade: false, method: 'GET', target: '/status' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'null', cred: 'token', upgrade: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'GET', target: '/health' }, { mustRefuse: false, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'badToken', upgrade: false, method: 'GET', target: '/health' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'POST', target: '/health' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'own', cred: 'none', upgrade: true }, { mustRefuse: false, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'tokenInQuery', upgrade: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'operatorJunk', upgrade: false, method: 'GET', target: '//[' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'GET', target: '/kiosk', page: true }, { mustRefuse: false, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'GET', target: '/kiosk', page: false }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'POST', target: '/kiosk', page: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'GET', target: '/status', page: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'foreign', origin: 'none', cred: 'none', upgrade: false, method: 'GET', target: '/kiosk', page: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'foreign', cred: 'none', upgrade: false, method: 'GET', target: '/kiosk', page: true }, { mustRefuse: true, mustAdmit: false }],
  ] as const)('%j → %j', (r, e) => {
    expect(expectationOf(r)).toEqual(e);
  });
});
