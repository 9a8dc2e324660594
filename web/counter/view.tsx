/**
 * The counter's screen, rendered from the model's state (model.ts). Every target is a real control
 * of at least 48 px (web/common/base.css); no PIN digit is ever rendered — a running service shows
 * the holder's prompt and one dot per key the daemon counted; identities only masked. When `print`
 * is used, only the 一次性告知 notice prints (counter.css @media print).
 */
import type { JSX } from 'preact';
import type { BilingualText } from '../../core/text.js';
import type { ServiceKind } from '../client/messages.js';
import { tr, type Lang } from '../common/i18n.js';
import { matchIndicator, type ChecklistRow, type Notice } from './checklist.js';
import { agentRulesOf, busy, checklistOf, factsOf, itemOf, offered, PHONE_MAX, SETS_PIN, type CounterState, type Flow, type Msg } from './model.js';
import { CARD_STATE_NAME, HOLDER_PROMPT, KIND_NAME, OUTCOME_NAME, SERVICE_NAME, STATE_NAME, SYNC_NAME, T } from './text.js';

type Dispatch = (m: Msg) => void;

export interface ViewProps {
  readonly state: CounterState;
  readonly now: number;
  readonly dispatch: Dispatch;
  /** The login form was submitted: the field values, the passphrase field already cleared. */
  readonly onLogin: (operatorId: string, passphrase: string) => void;
}

const two = (n: number): string => String(n).padStart(2, '0');
export const clock = (ms: number): string => {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
};
const day = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
};

/** The colon after a label: full-width in Chinese, ": " in English. */
const colon = (lang: Lang): string => (lang === 'zh' ? '：' : ': ');

function Txt({ lang, t }: { readonly lang: Lang; readonly t: BilingualText }): JSX.Element {
  return <>{tr(lang, t)}</>;
}

function Header({ state, dispatch }: { readonly state: CounterState; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  const op = state.operator;
  return (
    <header class="bar">
      <h1>
        <Txt lang={lang} t={T.title} />
      </h1>
      {op === null ? null : (
        <p class="who" data-testid="operator">
          <span>{tr(lang, T.operator(op.operatorId))}</span>
          <span data-testid="expires">{tr(lang, T.expires(clock(op.expiresAt)))}</span>
        </p>
      )}
      <div class="bar-actions">
        {op === null ? null : (
          <button type="button" class="btn secondary" data-testid="logout" onClick={() => dispatch({ type: 'logout' })}>
            <Txt lang={lang} t={T.logout} />
          </button>
        )}
        <button type="button" class="btn secondary" data-testid="lang" lang={lang === 'zh' ? 'en' : 'zh-CN'} title={tr(lang, T.langLabel)} onClick={() => dispatch({ type: 'lang', lang: lang === 'zh' ? 'en' : 'zh' })}>
          <Txt lang={lang} t={T.lang} />
        </button>
      </div>
    </header>
  );
}

function Login({ state, onLogin }: { readonly state: CounterState; readonly onLogin: ViewProps['onLogin'] }): JSX.Element {
  const lang = state.lang;
  const submit = (e: Event): void => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const id = form.elements.namedItem('operatorId') as HTMLInputElement;
    const pass = form.elements.namedItem('passphrase') as HTMLInputElement;
    const passphrase = pass.value;
    // Cleared before the command goes: the passphrase is in the one Operator.Login frame and nowhere else.
    pass.value = '';
    onLogin(id.value.trim(), passphrase);
  };
  return (
    <section class="panel login" data-screen="login">
      <h2>
        <Txt lang={lang} t={T.loginTitle} />
      </h2>
      {state.login.notice === null ? null : (
        <p class="notice-line" role="status" data-testid="login-notice">
          {tr(lang, state.login.notice)}
        </p>
      )}
      <form onSubmit={submit} autocomplete="off">
        <label>
          <span>
            <Txt lang={lang} t={T.operatorId} />
          </span>
          <input name="operatorId" data-testid="operator-id" required pattern="[A-Za-z0-9._\-]{1,64}" autocomplete="off" spellcheck={false} />
        </label>
        <label>
          <span>
            <Txt lang={lang} t={T.passphrase} />
          </span>
          <input name="passphrase" data-testid="passphrase" type="password" required autocomplete="off" />
        </label>
        <button type="submit" class="btn primary" data-testid="login" disabled={state.login.busy || !state.connected}>
          <Txt lang={lang} t={state.login.busy ? T.loggingIn : T.login} />
        </button>
      </form>
      {state.login.error === null ? null : (
        <p class="fail" role="alert" data-testid="login-error">
          {tr(lang, state.login.error)}
        </p>
      )}
    </section>
  );
}

function Field({ lang, label, value, testId }: { readonly lang: Lang; readonly label: BilingualText; readonly value: string; readonly testId?: string }): JSX.Element {
  return (
    <div class="field">
      <dt>{tr(lang, label)}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

function Identity({ state, dispatch }: { readonly state: CounterState; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  const c = state.card;
  const id = state.idCard;
  const m = matchIndicator(factsOf(state));
  return (
    <section class="panel identity" aria-labelledby="identity-h">
      <h2 id="identity-h">
        <Txt lang={lang} t={T.identity} />
      </h2>
      <div class="side-by-side">
        <article class="doc" data-testid="ss-card">
          <h3>
            <Txt lang={lang} t={T.ssCard} />
          </h3>
          {c === null ? (
            <p class="muted">
              <Txt lang={lang} t={T.noCard} />
            </p>
          ) : (
            <dl>
              <Field lang={lang} label={T.name} value={c.nameMasked} />
              <Field lang={lang} label={T.cardNumber} value={c.cardNumberMasked} />
              <Field lang={lang} label={T.cardState} value={tr(lang, CARD_STATE_NAME[c.cardState] ?? { zh: c.cardState, en: c.cardState })} testId="card-state" />
              {c.triesLeft === null ? null : <Field lang={lang} label={T.triesLeft} value={String(c.triesLeft)} />}
            </dl>
          )}
        </article>
        <article class="doc" data-testid="id-card">
          <h3>
            <Txt lang={lang} t={T.idCard} />
          </h3>
          {id.status === 'read' && id.report.idCard !== null ? (
            <dl>
              <Field lang={lang} label={T.name} value={id.report.idCard.nameMasked} />
              <Field lang={lang} label={T.idNumber} value={id.report.idCard.idNumberMasked + (id.report.idCard.idNumberValid ? '' : ` ${tr(lang, T.idNumberInvalid)}`)} testId="id-number" />
              <div class="field">
                <dt>{tr(lang, T.validity)}</dt>
                <dd>
                  <span class="nowrap">{id.report.idCard.validFrom} –</span> <span class="nowrap">{id.report.idCard.validTo}</span>
                </dd>
              </div>
            </dl>
          ) : (
            <p class="muted">{tr(lang, id.status === 'read' ? T.noIdCard : id.status === 'failed' ? id.text : id.status === 'reading' ? T.readingIdCard : T.idNotRead)}</p>
          )}
          <button type="button" class="btn secondary" data-testid="read-id" disabled={id.status === 'reading' || busy(state)} onClick={() => dispatch({ type: 'readIdCard' })}>
            <Txt lang={lang} t={id.status === 'reading' ? T.readingIdCard : T.readIdCard} />
          </button>
        </article>
      </div>
      <p class={`match ${m.tone}`} data-testid="match" data-tone={m.tone} role="status">
        <span class="icon" aria-hidden="true">
          {m.icon}
        </span>
        <span class="match-text">
          <span class="headline">{tr(lang, m.text)}</span>
          {m.detail === null ? null : <span class="detail">{tr(lang, m.detail)}</span>}
        </span>
      </p>
    </section>
  );
}

function Row({ lang, row, disabled, dispatch }: { readonly lang: Lang; readonly row: ChecklistRow; readonly disabled: boolean; readonly dispatch: Dispatch }): JSX.Element {
  const refused = row.terminal === 'mismatch' || row.terminal === 'expired';
  // Paper and the agent's document are not read before 受理: say who checks them, not "read".
  const terminal =
    row.checkedBy === 'clerk' ? T.clerkOnly : row.checkedBy === 'service' ? T.readInService : row.terminal === 'ok' ? T.readOk : row.terminal === 'mismatch' ? T.readMismatch : row.terminal === 'expired' ? T.readExpired : T.readMissing;
  const icon = row.checkedBy !== 'terminal' ? '\u2014' : row.terminal === 'ok' ? '\u2714' : refused ? '\u2716' : '\u2014';
  const tone = row.checkedBy !== 'terminal' ? 'none' : row.terminal === 'ok' ? 'ok' : refused ? 'fail' : 'none';
  return (
    <li class="check-row" data-testid={`material-${row.material}`} data-satisfied={row.satisfied ? 'yes' : 'no'}>
      <span class="material">{tr(lang, row.name)}</span>
      <span class={`terminal ${tone}`}>
        <span aria-hidden="true">{icon}</span> {tr(lang, T.terminalRead)}
        {colon(lang)}
        {tr(lang, terminal)}
      </span>
      <label class="confirm">
        <input type="checkbox" checked={row.clerk} disabled={disabled} data-testid={`confirm-${row.material}`} onChange={(e) => dispatch({ type: 'clerkCheck', material: row.material, checked: e.currentTarget.checked })} />
        <span>{tr(lang, T.clerkConfirm)}</span>
      </label>
    </li>
  );
}

/**
 * Who applies (state/agents.ts): the holder in person, or one of the ways the hall's catalog lets
 * someone apply for the holder in this service. Shown only where the service has such a way.
 */
function Applicant({ state, dispatch, disabled }: { readonly state: CounterState; readonly dispatch: Dispatch; readonly disabled: boolean }): JSX.Element | null {
  const lang = state.lang;
  const rules = agentRulesOf(state);
  if (rules.length === 0) return null;
  const options: { readonly basis: string | null; readonly name: BilingualText }[] = [{ basis: null, name: T.applicantHolder }, ...rules.map((r) => ({ basis: r.basis, name: r.name }))];
  return (
    <fieldset class="field applicant" data-testid="applicant" aria-describedby="applicant-hint">
      <legend>{tr(lang, T.applicant)}</legend>
      {options.map((o) => (
        <label key={o.basis ?? 'holder'} class="radio">
          <input
            type="radio"
            name="applicant"
            checked={state.agent === o.basis}
            disabled={disabled}
            data-testid={`applicant-${o.basis ?? 'holder'}`}
            onChange={() => dispatch({ type: 'agent', basis: o.basis })}
          />
          <span>{tr(lang, o.name)}</span>
        </label>
      ))}
      <p class="muted" id="applicant-hint">
        {tr(lang, T.applicantHint)}
      </p>
    </fieldset>
  );
}

function Services({ state, dispatch }: { readonly state: CounterState; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  const kinds = offered(state);
  const sel = state.selected;
  const item = sel === null ? null : itemOf(state, sel);
  const list = checklistOf(state);
  const running = busy(state);
  return (
    <section class="panel services" aria-labelledby="services-h">
      <h2 id="services-h">
        <Txt lang={lang} t={T.services} />
      </h2>
      {state.role === 'kiosk' ? (
        <p class="fail" role="status" data-testid="kiosk-role">
          {tr(lang, T.kioskRole)}
        </p>
      ) : null}
      <div class="choices" role="group" aria-label={tr(lang, T.services)}>
        {kinds.map((k: ServiceKind) => (
          <button type="button" key={k} class={`btn ${sel === k ? 'primary' : 'secondary'}`} aria-pressed={sel === k} data-testid={`service-${k}`} disabled={running} onClick={() => dispatch({ type: 'select', kind: k })}>
            {tr(lang, SERVICE_NAME[k])}
          </button>
        ))}
      </div>
      {state.catalogProblem === null ? null : (
        <p class="fail" role="alert">
          {tr(lang, state.catalogProblem)}
        </p>
      )}
      {sel === null ? (
        <p class="muted">
          <Txt lang={lang} t={T.chooseService} />
        </p>
      ) : (
        <>
          {item === null ? null : (
            <p class="item" data-testid="item">
              {tr(lang, T.item)}
              {colon(lang)}
              {tr(lang, item.name)} · {tr(lang, T.itemCode)} {item.itemCode} · {tr(lang, T.timeLimit(item.legalLimitDays, item.committedLimitDays))}
            </p>
          )}
          <Applicant state={state} dispatch={dispatch} disabled={running} />
          {list === null ? null : (
            <>
              <h3>
                <Txt lang={lang} t={T.materials} />
              </h3>
              <ul class="checklist" data-testid="checklist">
                {list.rows.map((r) => (
                  <Row key={r.material} lang={lang} row={r} disabled={running} dispatch={dispatch} />
                ))}
              </ul>
            </>
          )}
          {SETS_PIN.has(sel) ? (
            <div class="field phone">
              <label for="holder-phone">{tr(lang, T.phone)}</label>
              <input
                id="holder-phone"
                type="tel"
                inputMode="tel"
                autoComplete="off"
                maxLength={PHONE_MAX}
                data-testid="phone"
                aria-describedby="holder-phone-hint"
                value={state.phone}
                disabled={running}
                onInput={(e) => dispatch({ type: 'phone', value: e.currentTarget.value })}
              />
              <p class="muted" id="holder-phone-hint">
                {tr(lang, T.phoneHint)}
              </p>
            </div>
          ) : null}
          <button type="button" class="btn primary accept" data-testid="accept" disabled={running || state.card === null} onClick={() => dispatch({ type: 'accept' })}>
            <Txt lang={lang} t={T.accept} />
          </button>
        </>
      )}
    </section>
  );
}

function NoticeView({ lang, n, state, kind, at }: { readonly lang: Lang; readonly n: Notice; readonly state: CounterState; readonly kind: ServiceKind; readonly at: number }): JSX.Element {
  const item = itemOf(state, kind);
  return (
    <div class="notice print-only-this" data-testid="notice" role="alert">
      <h2>
        <Txt lang={lang} t={T.notice} />
      </h2>
      <p>
        {tr(lang, T.item)}
        {colon(lang)}
        {item === null ? tr(lang, SERVICE_NAME[kind]) : lang === 'zh' ? `${item.name.zh}（${SERVICE_NAME[kind].zh}） ${T.itemCode.zh} ${item.itemCode}` : `${item.name.en} (${SERVICE_NAME[kind].en}), ${T.itemCode.en} ${item.itemCode}`}
      </p>
      <p>{tr(lang, n.heading)}</p>
      <ol data-testid="notice-items">
        {n.items.map((i) => (
          <li key={i.name.zh}>
            <strong>{tr(lang, i.name)}</strong>
            {colon(lang)}
            {tr(lang, i.problem)}
          </li>
        ))}
      </ol>
      <p class="basis">{tr(lang, n.basis)}</p>
      {item?.address == null ? null : <p>{tr(lang, T.address(lang === 'zh' ? item.address.zh : item.address.en))}</p>}
      <p>{tr(lang, T.noticeDate(day(at)))}</p>
      {item?.consultPhone == null ? null : <p>{tr(lang, T.consult(item.consultPhone))}</p>}
      {item?.complaintPhone == null ? null : <p>{tr(lang, T.complaint(item.complaintPhone))}</p>}
    </div>
  );
}

function FlowView({ state, flow, dispatch }: { readonly state: CounterState; readonly flow: Flow; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  switch (flow.phase) {
    case 'running':
      return (
        <section class="panel flow" data-screen="running" aria-live="polite">
          <h2>
            {tr(lang, T.running)}
            {colon(lang)}
            {tr(lang, SERVICE_NAME[flow.kind])}
          </h2>
          <p class="prompt" data-testid="prompt">
            {flow.document === 'agent' ? tr(lang, T.placeAgentId) : flow.document === 'holder' ? tr(lang, T.placeHolderId) : flow.prompt === null ? tr(lang, T.waitingPad) : tr(lang, HOLDER_PROMPT[flow.prompt])}
          </p>
          {/* role="img": the dots are a picture of the count, named by it. */}
          <div class="dots" data-testid="pin-dots" role="img" aria-label={tr(lang, T.pinDots(flow.count))}>
            {'\u25cf'.repeat(flow.count) || '\u00a0'}
          </div>
          <button type="button" class="btn secondary" data-testid="cancel" disabled={flow.cancelling} onClick={() => dispatch({ type: 'cancelService' })}>
            <Txt lang={lang} t={flow.cancelling ? T.cancelling : T.cancel} />
          </button>
        </section>
      );
    case 'result': {
      const r = flow.result;
      const tone = r.outcome === 'ok' ? 'ok' : 'fail';
      return (
        <section class="panel flow" data-screen="result">
          <h2>
            {tr(lang, T.result)}
            {colon(lang)}
            {tr(lang, SERVICE_NAME[flow.kind])}
          </h2>
          <p class={`result ${tone}`} data-testid="result-text" data-outcome={r.outcome}>
            <span aria-hidden="true">{r.outcome === 'ok' ? '\u2714 ' : '\u2716 '}</span>
            {lang === 'zh' ? r.zh : r.en}
          </p>
          <p data-testid="result-code">
            {tr(lang, T.resultCode)}
            {colon(lang)}
            {r.code}
          </p>
          {r.nextStep.zh === '' ? null : (
            <p>
              {tr(lang, T.nextStep)}
              {colon(lang)}
              {lang === 'zh' ? r.nextStep.zh : r.nextStep.en}
            </p>
          )}
          {r.bank === undefined ? null : (
            <p data-testid="bank">
              {tr(lang, T.bank)}
              {colon(lang)}
              {lang === 'zh' ? r.bank.zh : r.bank.en}
            </p>
          )}
          <button type="button" class="btn primary" data-testid="done" onClick={() => dispatch({ type: 'dismiss' })}>
            <Txt lang={lang} t={T.done} />
          </button>
        </section>
      );
    }
    case 'failed':
      return (
        <section class="panel flow" data-screen="failed">
          <p class="fail" role="alert" data-testid="failed-text">
            {tr(lang, flow.text)}
          </p>
          <button type="button" class="btn primary" data-testid="done" onClick={() => dispatch({ type: 'dismiss' })}>
            <Txt lang={lang} t={T.done} />
          </button>
        </section>
      );
    case 'refused':
      return (
        <section class="panel flow" data-screen="refused">
          <NoticeView lang={lang} n={flow.notice} state={state} kind={flow.kind} at={flow.at} />
          <div class="actions no-print">
            <button type="button" class="btn primary" data-testid="print" onClick={() => window.print()}>
              <Txt lang={lang} t={T.print} />
            </button>
            <button type="button" class="btn secondary" data-testid="done" onClick={() => dispatch({ type: 'dismiss' })}>
              <Txt lang={lang} t={T.done} />
            </button>
          </div>
        </section>
      );
  }
}

function Operations({ state, dispatch }: { readonly state: CounterState; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  const ops = state.operations;
  const name = (t: Readonly<Record<string, BilingualText>>, k: string | null): string => (k === null ? '—' : tr(lang, t[k] ?? { zh: k, en: k }));
  return (
    <section class="panel operations" aria-labelledby="ops-h">
      <div class="ops-head">
        <h2 id="ops-h">
          <Txt lang={lang} t={T.operations} />
        </h2>
        <button type="button" class="btn secondary" data-testid="refresh-operations" disabled={ops.loading} onClick={() => dispatch({ type: 'refreshOperations' })}>
          <Txt lang={lang} t={T.refresh} />
        </button>
      </div>
      {ops.problem === null ? null : (
        <p class="fail" role="alert">
          {tr(lang, ops.problem)}
        </p>
      )}
      {ops.rows.length === 0 ? (
        <p class="muted" data-testid="no-operations">
          <Txt lang={lang} t={T.noOperations} />
        </p>
      ) : (
        <table data-testid="operations">
          <thead>
            <tr>
              <th scope="col">{tr(lang, T.time)}</th>
              <th scope="col">{tr(lang, T.kind)}</th>
              <th scope="col">{tr(lang, T.card)}</th>
              <th scope="col">{tr(lang, T.outcome)}</th>
              <th scope="col">{tr(lang, T.sync)}</th>
              <th scope="col">{tr(lang, T.by)}</th>
            </tr>
          </thead>
          <tbody>
            {ops.rows.map((r) => (
              <tr key={r.id} data-kind={r.kind} data-outcome={r.outcome ?? ''}>
                <td>{clock(r.startedAt)}</td>
                <td>{name(KIND_NAME, r.kind)}</td>
                <td>{r.cardNumberMasked ?? '—'}</td>
                <td>{r.outcome === null ? name(STATE_NAME, r.state) : name(OUTCOME_NAME, r.outcome)}</td>
                <td>{name(SYNC_NAME, r.syncState)}</td>
                <td>{r.operatorId ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Counter({ state, dispatch, onLogin }: ViewProps): JSX.Element {
  const lang = state.lang;
  return (
    <div class="counter" data-lang={lang}>
      <Header state={state} dispatch={dispatch} />
      {state.connected ? null : (
        <p class="unavailable no-print" role="alert" data-testid="unavailable">
          <Txt lang={lang} t={T.unavailable} />
        </p>
      )}
      <main>
        {state.operator === null ? (
          <Login state={state} onLogin={onLogin} />
        ) : (
          <div class="desk" data-screen="desk">
            <Identity state={state} dispatch={dispatch} />
            <Services state={state} dispatch={dispatch} />
            {state.flow === null ? null : <FlowView state={state} flow={state.flow} dispatch={dispatch} />}
            <Operations state={state} dispatch={dispatch} />
          </div>
        )}
      </main>
    </div>
  );
}
