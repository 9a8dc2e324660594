/**
 * The kiosk's screens, rendered from the flow's state (flow.ts). Every target is a real button of
 * at least 48 px (64 px in elder mode, web/common/base.css); no digit of a PIN is ever rendered —
 * the PIN screen shows one dot per key event the daemon counted.
 */
import type { JSX } from 'preact';
import type { BilingualText } from '../../core/text.js';
import { tr, type Lang } from '../common/i18n.js';
import { cardLocked, countdown, offeredServices, unavailable, type KioskState, type Msg, type Screen } from './flow.js';
import { dots } from './keypad.js';
import { helpItems, itemOf, materialName, needsOf, whereToGo } from './catalog-view.js';
import { KEY_LABEL, PIN_RULES, PROMPT, SERVICE_HINT, SERVICE_NAME, T } from './text.js';

type Dispatch = (m: Msg) => void;

interface Props {
  readonly state: KioskState;
  readonly now: number;
  readonly dispatch: Dispatch;
}

function Btn(p: { readonly lang: Lang; readonly text: BilingualText; readonly onClick: () => void; readonly kind?: 'primary' | 'secondary'; readonly testId?: string }): JSX.Element {
  return (
    <button type="button" class={`btn ${p.kind ?? 'secondary'}`} data-testid={p.testId} onClick={p.onClick}>
      {tr(p.lang, p.text)}
    </button>
  );
}

function CardLine({ state }: { readonly state: KioskState }): JSX.Element | null {
  const c = state.card;
  if (c === null) return null;
  const lang = state.lang;
  return (
    <div class="card-line" data-testid="card">
      <span class="holder">
        {tr(lang, T.hello)}
        {lang === 'zh' ? '，' : ', '}
        {c.nameMasked}
      </span>
      <span>
        {tr(lang, T.cardNumber)} {c.cardNumberMasked}
      </span>
      {c.triesLeft === null ? null : <span>{tr(lang, T.triesLeft(c.triesLeft))}</span>}
    </div>
  );
}

function Keypad({ state, screen, dispatch }: { readonly state: KioskState; readonly screen: Extract<Screen, { name: 'pin' }>; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  return (
    <div class="keypad" role="group" aria-label={tr(lang, { zh: '屏幕密码键盘', en: 'On-screen keypad' })}>
      {screen.keypad.map((k) => {
        const label = k === 'clear' || k === 'enter' || k === 'backspace' || k === 'cancel' ? tr(lang, KEY_LABEL[k]) : k;
        return (
          <button type="button" key={`${k}`} class={`key key-${k.length === 1 ? 'digit' : k}`} disabled={screen.prompt === null} onClick={() => dispatch({ type: 'key', key: k })}>
            {label}
          </button>
        );
      })}
    </div>
  );
}

function PinScreen({ state, screen, dispatch }: { readonly state: KioskState; readonly screen: Extract<Screen, { name: 'pin' }>; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  const newPin = screen.prompt === 'enterNewPin' || screen.prompt === 'confirmNewPin';
  return (
    <section class="screen pin" data-screen="pin">
      <h1>{tr(lang, SERVICE_NAME[screen.kind])}</h1>
      <p class="prompt" aria-live="polite" data-testid="pin-prompt">
        {screen.prompt !== null ? tr(lang, PROMPT[screen.prompt]) : screen.idCard === 'waiting' ? tr(lang, T.idCardWaiting) : tr(lang, T.waitingPad)}
      </p>
      {screen.idCard === 'read' ? <p class="id-ok">✓ {tr(lang, T.idCardRead)}</p> : null}
      {screen.idCard === 'waiting' && screen.prompt === null ? <div class="id-slot" aria-hidden="true" /> : null}
      {/* role="img": the dots are a picture of the count, named by it (an aria-label on a bare div is not announced). */}
      <div class="dots" data-testid="pin-dots" role="img" aria-label={tr(lang, { zh: `已输入 ${screen.count} 位`, en: `${screen.count} keys entered` })}>
        {dots(screen.count) || ' '}
      </div>
      {newPin ? (
        <div class="rules">
          <h2>{tr(lang, T.pinRules)}</h2>
          <ul>
            {PIN_RULES.map((r) => (
              <li key={r.zh}>{tr(lang, r)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {state.touchKeys ? <Keypad state={state} screen={screen} dispatch={dispatch} /> : <p class="hint">{tr(lang, T.useHardwarePad)}</p>}
      <p class="hint">{tr(lang, T.coverPad)}</p>
      <div class="actions">
        <Btn lang={lang} text={KEY_LABEL.cancel} onClick={() => dispatch({ type: 'back' })} />
      </div>
    </section>
  );
}

function ResultScreen({ state, screen, dispatch }: { readonly state: KioskState; readonly screen: Extract<Screen, { name: 'result' }>; readonly dispatch: Dispatch }): JSX.Element {
  const lang = state.lang;
  const r = screen.result;
  const ok = r.outcome === 'ok';
  const canRetry = !ok && offeredServices(state).includes(screen.kind);
  const time = new Date(screen.at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
  const item = itemOf(state.catalog, screen.kind);
  return (
    <section class="screen result" data-screen="result">
      <h1 class={ok ? 'ok' : 'fail'}>{tr(lang, ok ? T.resultOk : T.resultFail)}</h1>
      <p class="result-text" data-testid="result-text">
        {lang === 'zh' ? r.zh : r.en}
      </p>
      {r.triesLeft !== null && !ok ? <p class="tries">{tr(lang, T.triesLeft(r.triesLeft))}</p> : null}
      {r.missing !== undefined && r.missing.length > 0 ? (
        <div class="missing">
          <h2>{tr(lang, T.missingTitle)}</h2>
          <ul>
            {r.missing.map((m) => (
              <li key={m}>{tr(lang, materialName(state.catalog, m))}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="next">
        <h2>{tr(lang, T.nextStep)}</h2>
        <p data-testid="next-step">{tr(lang, r.nextStep)}</p>
      </div>
      <section class="receipt">
        <h2>{tr(lang, T.receipt)}</h2>
        <dl>
          {item === null ? null : (
            <>
              <dt>{tr(lang, T.receiptItem)}</dt>
              <dd>{tr(lang, item.name)}</dd>
              <dt>{tr(lang, T.receiptItemCode)}</dt>
              <dd data-testid="receipt-item-code">{item.itemCode}</dd>
            </>
          )}
          <dt>{tr(lang, T.receiptService)}</dt>
          <dd>{tr(lang, SERVICE_NAME[screen.kind])}</dd>
          <dt>{tr(lang, T.receiptTime)}</dt>
          <dd>{time}</dd>
          <dt>{tr(lang, T.receiptResult)}</dt>
          <dd>
            {lang === 'zh' ? r.zh : r.en} ({r.code})
          </dd>
          <dt>{tr(lang, T.receiptCard)}</dt>
          <dd>{state.card?.cardNumberMasked ?? '—'}</dd>
          {r.operationId === undefined ? null : (
            <>
              <dt>{tr(lang, T.receiptOperation)}</dt>
              <dd data-testid="receipt-operation">{r.operationId}</dd>
            </>
          )}
        </dl>
      </section>
      <div class="actions">
        {canRetry ? <Btn lang={lang} text={T.tryAgain} onClick={() => dispatch({ type: 'tryAgain' })} /> : null}
        <Btn lang={lang} text={T.printReceipt} onClick={() => window.print()} />
        <Btn lang={lang} kind="primary" text={T.finish} onClick={() => dispatch({ type: 'finish' })} testId="finish" />
      </div>
    </section>
  );
}

/** Time limits and phone lines of the items behind this kiosk's services (SSCard.Catalog). */
function HelpItems({ state }: { readonly state: KioskState }): JSX.Element {
  const lang = state.lang;
  const items = helpItems(state.catalog, state.services);
  if (items.length === 0) return <p>{tr(lang, T.helpPosted)}</p>;
  return (
    <div class="help-items" data-testid="help-items">
      {items.map((it) => (
        <div class="help-item" key={it.name.zh}>
          <h2>{tr(lang, it.name)}</h2>
          <dl>
            <dt>{tr(lang, T.timeLimits)}</dt>
            <dd>{it.limits.map((l) => tr(lang, l)).join(lang === 'zh' ? '；' : '; ')}</dd>
            {it.consultPhone === null ? null : (
              <>
                <dt>{tr(lang, T.consultPhone)}</dt>
                <dd>{it.consultPhone}</dd>
              </>
            )}
            {it.complaintPhone === null ? null : (
              <>
                <dt>{tr(lang, T.complaintPhone)}</dt>
                <dd>{it.complaintPhone}</dd>
              </>
            )}
            {it.address === null ? null : (
              <>
                <dt>{tr(lang, T.whereAddress)}</dt>
                <dd>{tr(lang, it.address)}</dd>
              </>
            )}
          </dl>
        </div>
      ))}
    </div>
  );
}

function Body({ state, now, dispatch }: Props): JSX.Element {
  const lang = state.lang;
  const sc = state.screen;
  switch (sc.name) {
    case 'attract':
      // The page's heading for assistive technology: a heading cannot sit inside the button that fills the screen.
      return (
        <>
          <h1 class="visually-hidden">{tr(lang, T.title)}</h1>
          <button type="button" class="screen attract" data-screen="attract" onClick={() => dispatch({ type: 'touch' })}>
            <span class="big">{tr(lang, T.title)}</span>
            <span class="sub">{tr(lang, T.attract)}</span>
            <span class="sub small">{tr(lang, T.attractSub)}</span>
          </button>
        </>
      );
    case 'insertCard':
      return (
        <section class="screen" data-screen="insertCard">
          <h1>{tr(lang, T.insert)}</h1>
          <div class="card-slot" aria-hidden="true" />
          <p class="sub">{tr(lang, T.insertSub)}</p>
          <div class="actions">
            <Btn lang={lang} text={T.back} onClick={() => dispatch({ type: 'finish' })} />
          </div>
        </section>
      );
    case 'reading':
      return (
        <section class="screen" data-screen="reading">
          <h1 aria-live="polite">{tr(lang, T.reading)}</h1>
        </section>
      );
    case 'menu': {
      const services = offeredServices(state);
      return (
        <section class="screen" data-screen="menu">
          <CardLine state={state} />
          <h1>{tr(lang, services.length > 0 ? T.chooseService : T.noService)}</h1>
          <div class="services">
            {services.map((k) => (
              <button type="button" key={k} class="service" data-testid={`service-${k}`} onClick={() => dispatch({ type: 'chooseService', kind: k })}>
                <span class="name">{tr(lang, SERVICE_NAME[k])}</span>
                <span class="hint">{tr(lang, SERVICE_HINT[k])}</span>
              </button>
            ))}
          </div>
          <div class="actions">
            <Btn lang={lang} kind="primary" text={T.finish} onClick={() => dispatch({ type: 'finish' })} />
          </div>
        </section>
      );
    }
    case 'locked': {
      const where = whereToGo(state.catalog, state.card?.cardState ?? '');
      return (
        <section class="screen" data-screen="locked">
          <CardLine state={state} />
          <h1 class="fail">{tr(lang, T.locked)}</h1>
          {state.card !== null && !cardLocked(state.card) && state.card.triesLeft !== null ? <p class="next">{tr(lang, T.lowTries(state.card.triesLeft))}</p> : null}
          <p class="next">{tr(lang, T.lockedNext)}</p>
          {where.address === null ? null : (
            <p class="where" data-testid="where">
              {tr(lang, T.whereAddress)}：{tr(lang, where.address)}
            </p>
          )}
          {where.phone === null ? null : (
            <p class="where">
              {tr(lang, T.consultPhone)}：{where.phone}
            </p>
          )}
          <div class="actions">
            <Btn lang={lang} kind="primary" text={T.finish} onClick={() => dispatch({ type: 'finish' })} />
          </div>
        </section>
      );
    }
    case 'prepare':
      return (
        <section class="screen" data-screen="prepare">
          <h1>{tr(lang, SERVICE_NAME[sc.kind])}</h1>
          <h2>{tr(lang, T.needs)}</h2>
          <ol class="needs">
            {needsOf(state.catalog, sc.kind).map((n) => (
              <li key={n.zh}>{tr(lang, n)}</li>
            ))}
          </ol>
          <div class="actions">
            <Btn lang={lang} text={T.back} onClick={() => dispatch({ type: 'back' })} />
            <Btn lang={lang} kind="primary" text={T.start} onClick={() => dispatch({ type: 'startService' })} testId="start" />
          </div>
        </section>
      );
    case 'pin':
      return <PinScreen state={state} screen={sc} dispatch={dispatch} />;
    case 'result':
      return <ResultScreen state={state} screen={sc} dispatch={dispatch} />;
    case 'failed':
      return (
        <section class="screen" data-screen="failed">
          <h1 class="fail">{tr(lang, T.resultFail)}</h1>
          <p class="result-text">{tr(lang, sc.text)}</p>
          <div class="actions">
            <Btn lang={lang} text={T.tryAgain} onClick={() => dispatch({ type: 'tryAgain' })} />
            <Btn lang={lang} kind="primary" text={T.finish} onClick={() => dispatch({ type: 'finish' })} />
          </div>
        </section>
      );
    case 'removed':
      return (
        <section class="screen" data-screen="removed">
          <h1>{tr(lang, T.removed)}</h1>
          <p class="sub">{tr(lang, T.removedSub)}</p>
        </section>
      );
    case 'help':
      return (
        <section class="screen" data-screen="help">
          <h1>{tr(lang, T.helpTitle)}</h1>
          {T.helpBody.map((b) => (
            <p key={b.zh}>{tr(lang, b)}</p>
          ))}
          <HelpItems state={state} />
          <div class="actions">
            <Btn lang={lang} kind="primary" text={T.back} onClick={() => dispatch({ type: 'back' })} />
          </div>
        </section>
      );
  }
  void now;
}

export function Kiosk({ state, now, dispatch }: Props): JSX.Element {
  const lang = state.lang;
  const left = countdown(state, now);
  const down = unavailable(state);
  return (
    <div class={`kiosk${state.elder ? ' elder' : ''}`}>
      <header class="bar">
        <span class="brand">{tr(lang, T.title)}</span>
        <span class="tools">
          <button type="button" class="tool" data-testid="toggle-lang" onClick={() => dispatch({ type: 'toggleLang' })}>
            {tr(lang, T.langToggle)}
          </button>
          <button type="button" class="tool" data-testid="toggle-elder" aria-pressed={state.elder} onClick={() => dispatch({ type: 'toggleElder' })}>
            {tr(lang, state.elder ? T.elderOff : T.elder)}
          </button>
          {state.screen.name === 'pin' ? null : (
            <button type="button" class="tool" onClick={() => dispatch({ type: 'help' })}>
              {tr(lang, T.help)}
            </button>
          )}
        </span>
      </header>
      <main>
        <Body state={state} now={now} dispatch={dispatch} />
      </main>
      {left === null ? null : (
        <div class="countdown" role="alertdialog" aria-live="assertive" data-testid="countdown">
          <span>{tr(lang, T.countdown(left))}</span>
          <Btn lang={lang} kind="primary" text={T.moreTime} onClick={() => dispatch({ type: 'moreTime' })} />
        </div>
      )}
      {down ? (
        <div class="overlay" role="alert" data-testid="unavailable">
          <h1>{tr(lang, T.unavailable)}</h1>
          <p>{tr(lang, T.unavailableSub)}</p>
        </div>
      ) : null}
    </div>
  );
}
