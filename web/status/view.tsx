/**
 * The technician page, rendered from the controller's state (controller.ts). Every target is a
 * real button or input of at least 48 px (web/common/base.css); the PIN pad test shows one `*` per
 * counted key, never a digit; identity only as the daemon masked it.
 */
import type { JSX } from 'preact';
import type { BilingualText } from '../../core/text.js';
import { tr, type Lang } from '../common/i18n.js';
import type { PageState, StatusController } from './controller.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { formatTime, viewOf, type Section } from './model.js';
import { LEVEL_NAME, T } from './text.js';
import { keypadShown, padMode, stars, TEST_KEYPAD, type TestKey } from './pad.js';

interface Props {
  readonly state: PageState;
  readonly ctl: StatusController;
}

const KEY_TEXT: Readonly<Record<string, BilingualText>> = { enter: T.keyEnter, backspace: T.keyBackspace, clear: T.keyClear, cancel: T.keyCancel };

function SectionView({ lang, s }: { readonly lang: Lang; readonly s: Section }): JSX.Element {
  return (
    <section class="panel" data-testid={`section-${s.id}`} aria-labelledby={`h-${s.id}`}>
      <h2 id={`h-${s.id}`}>{tr(lang, s.title)}</h2>
      <dl class="fields">
        {s.fields.map((f) => (
          <div class="field" key={f.key} data-field={f.key}>
            <dt>{tr(lang, f.label)}</dt>
            <dd class={f.tone === 'plain' ? undefined : f.tone}>{tr(lang, f.value)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Readers({ state }: { readonly state: PageState }): JSX.Element | null {
  const lang = state.lang;
  if (state.report === null) return null;
  const rows = viewOf(state.report).readers;
  return (
    <section class="panel wide" data-testid="section-readers" aria-labelledby="h-readers">
      <h2 id="h-readers">{tr(lang, T.readers)}</h2>
      {rows.length === 0 ? (
        <p>{tr(lang, T.noReaders)}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{tr(lang, T.readerName)}</th>
                <th scope="col">{tr(lang, T.readerRole)}</th>
                <th scope="col">{tr(lang, T.readerCard)}</th>
                <th scope="col">{tr(lang, T.atr)}</th>
                <th scope="col">{tr(lang, T.busy)}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name} data-reader={r.name}>
                  <th scope="row">{r.name}</th>
                  <td>{tr(lang, r.role)}</td>
                  <td>{tr(lang, r.card)}</td>
                  <td class="atr">{r.atr}</td>
                  <td>{tr(lang, r.busy)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function PadPanel({ state, ctl }: Props): JSX.Element {
  const lang = state.lang;
  const mode = padMode(state.padCaps);
  const p = state.pad;
  const running = p.phase === 'running';
  const open = state.connection === 'open';
  return (
    <section class="panel" data-testid="pad-test" aria-labelledby="h-pad">
      <h2 id="h-pad">{tr(lang, T.padTest)}</h2>
      {mode === 'none' ? (
        <p>{tr(lang, T.padNone)}</p>
      ) : (
        <>
          <p>{tr(lang, T.padIntro)}</p>
          <div class="pad-actions">
            {running ? (
              <button type="button" class="btn secondary" data-testid="pad-stop" onClick={() => ctl.padStop()}>
                {tr(lang, T.padStop)}
              </button>
            ) : (
              <button type="button" class="btn primary" data-testid="pad-start" disabled={!open} onClick={() => ctl.padStart()}>
                {tr(lang, T.padStart)}
              </button>
            )}
          </div>
          {running ? <p class="prompt">{tr(lang, mode === 'touch' ? T.padTouchPrompt : T.padHardwarePrompt)}</p> : null}
          <p class="pad-count" aria-live="polite">
            {tr(lang, T.padKeys)}
            {/* role="img": the stars are a picture of the count, named by it. */}
            <span class="stars" data-testid="pad-stars" role="img" aria-label={tr(lang, { zh: `${p.count} 次`, en: `${p.count} keys` })}>
              {stars(p.count) || '—'}
            </span>
          </p>
          {p.phase === 'done' && p.completion !== null ? (
            <p class="ok" data-testid="pad-result" role="status">
              {tr(lang, T.padDone(p.digits ?? p.count, p.completion))}
            </p>
          ) : null}
          {p.phase === 'failed' && p.error !== null ? (
            <p class="fail" data-testid="pad-result" role="status">
              {tr(lang, T.padFailed)}
              {tr(lang, T.colon)}
              {tr(lang, p.error)}
            </p>
          ) : null}
          {keypadShown(p, mode) ? (
            <div class="test-keypad" role="group" aria-label={tr(lang, T.keypadLabel)} data-testid="pad-keypad">
              {TEST_KEYPAD.map((k: TestKey) => (
                <button type="button" key={k} class={`key key-${k.length === 1 ? 'digit' : k}`} onClick={() => ctl.padKey(k)}>
                  {k.length === 1 ? k : tr(lang, KEY_TEXT[k]!)}
                </button>
              ))}
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}

function LoginForm({ state, ctl }: Props): JSX.Element {
  const lang = state.lang;
  const submit = (e: Event): void => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const id = form.elements.namedItem('operatorId') as HTMLInputElement;
    const pass = form.elements.namedItem('passphrase') as HTMLInputElement;
    const value = pass.value;
    // The passphrase leaves the page in one Operator.Login frame; the field is emptied at once.
    pass.value = '';
    if (id.value.trim() === '' || value === '') return;
    ctl.login(id.value.trim(), value);
  };
  return (
    <form class="login" data-testid="login" onSubmit={submit} autocomplete="off">
      <p>{tr(lang, T.logIntro)}</p>
      <div class="inputs">
        <label>
          {tr(lang, T.operatorId)}
          <input name="operatorId" type="text" autocomplete="off" required maxLength={64} />
        </label>
        <label>
          {tr(lang, T.passphrase)}
          {/* autocomplete off: a shared technician terminal must not offer to keep an operator's passphrase. */}
          <input name="passphrase" type="password" autocomplete="off" required maxLength={1024} />
        </label>
        <button type="submit" class="btn primary" disabled={state.loginBusy || state.connection !== 'open'}>
          {tr(lang, T.login)}
        </button>
      </div>
      {state.loginError === null ? null : (
        <p class="fail" role="alert" data-testid="login-error">
          {tr(lang, state.loginError)}
        </p>
      )}
    </form>
  );
}

function LogPanel({ state, ctl }: Props): JSX.Element {
  const lang = state.lang;
  return (
    <section class="panel wide" data-testid="log" aria-labelledby="h-log">
      <h2 id="h-log">{tr(lang, T.log)}</h2>
      {state.logError === null ? null : (
        <p class="fail" role="status" data-testid="log-error">
          {tr(lang, state.logError)}
        </p>
      )}
      {state.operator === null ? (
        <LoginForm state={state} ctl={ctl} />
      ) : (
        <>
          <div class="log-tools">
            <span data-testid="operator">{tr(lang, T.loggedInAs(state.operator))}</span>
            <label>
              {tr(lang, T.logMinLevel)}
              <select value={state.logMinLevel} onChange={(e) => ctl.setMinLevel(e.currentTarget.value as LogLevel)}>
                {LOG_LEVELS.map((l) => (
                  <option key={l} value={l}>
                    {tr(lang, LEVEL_NAME[l]!)}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" class="btn secondary" onClick={() => ctl.logout()}>
              {tr(lang, T.logout)}
            </button>
          </div>
          {state.log === null || state.log.length === 0 ? (
            <p>{tr(lang, T.logEmpty)}</p>
          ) : (
            <div class="table-wrap log-wrap" tabIndex={0} role="region" aria-label={tr(lang, T.log)}>
              <table class="log-lines" data-testid="log-lines">
                <thead>
                  <tr>
                    <th scope="col">{tr(lang, T.logTime)}</th>
                    <th scope="col">{tr(lang, T.logLevel)}</th>
                    <th scope="col">{tr(lang, T.logComponent)}</th>
                    <th scope="col">{tr(lang, T.logMessage)}</th>
                  </tr>
                </thead>
                <tbody>
                  {state.log.map((l) => (
                    <tr key={l.seq} class={`lvl-${l.level}`}>
                      <td class="time">{l.time}</td>
                      <td class={l.level === 'error' || l.level === 'warn' ? 'level fail' : 'level'}>{tr(lang, LEVEL_NAME[l.level]!)}</td>
                      <td>{l.component}</td>
                      <td class="msg">
                        {l.message}
                        {l.meta === '' ? null : <span class="meta"> {l.meta}</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

export function StatusPage({ state, ctl }: Props): JSX.Element {
  const lang = state.lang;
  const view = state.report === null ? null : viewOf(state.report);
  return (
    <div class="status-page">
      <header class="bar">
        <h1>{tr(lang, T.title)}</h1>
        <div class="tools">
          <button type="button" class="btn secondary" data-testid="refresh" disabled={state.connection !== 'open'} onClick={() => ctl.refresh()}>
            {tr(lang, T.refresh)}
          </button>
          <button type="button" class="btn secondary" data-testid="lang" lang={lang === 'zh' ? 'en' : 'zh-CN'} onClick={() => ctl.toggleLang()}>
            {tr(lang, T.langToggle)}
          </button>
          <a class="btn secondary" href="/">
            {tr(lang, T.home)}
          </a>
        </div>
      </header>
      <main>
        {state.connection === 'open' ? null : (
          <p class={`banner ${state.connection === 'unavailable' ? 'down' : ''}`} role="status" data-testid={state.connection === 'unavailable' ? 'unavailable' : 'connecting'}>
            {tr(lang, state.connection === 'unavailable' ? T.unavailable : T.connecting)}
          </p>
        )}
        <p class="read-at" data-testid="read-at">
          {state.readAt === null ? tr(lang, T.noReport) : `${tr(lang, T.lastRead)} ${formatTime(state.readAt)}`}
        </p>
        <div class="grid">
          <Readers state={state} />
          {view?.sections.map((s) => <SectionView key={s.id} lang={lang} s={s} />)}
          <PadPanel state={state} ctl={ctl} />
          <LogPanel state={state} ctl={ctl} />
        </div>
      </main>
    </div>
  );
}
