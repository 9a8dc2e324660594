/**
 * A small JSON-over-HTTP(S) client on node:http / node:https with a keep-alive agent, an overall
 * deadline per request, a cap on the response size and optional mTLS (client certificate).
 * Failures become SsCardError with Sync_* codes and bilingual text that says what happens next.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { MAX_RESPONSE_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION, badResponse } from './wire.js';

export interface TlsOptions {
  /** Client certificate (PEM) for mTLS. */
  readonly cert?: string | Buffer;
  /** Its private key (PEM). */
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** CA bundle (PEM) the platform's certificate is checked against (default: Node's CAs). */
  readonly ca?: string | Buffer;
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

export class JsonClient {
  public readonly base: URL;
  private readonly agent: http.Agent;
  private readonly lib: typeof http | typeof https;

  public constructor(
    endpoint: string,
    private readonly timeoutMs: number,
    private readonly headers: Readonly<Record<string, string>>,
    tlsOpts?: TlsOptions,
  ) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new SsCardError(ErrorCode.Sync_Config, { zh: `平台地址 ${endpoint} 不是有效的 URL；请检查配置 sync.endpoint`, en: `platform endpoint ${endpoint} is not a valid URL; check the sync.endpoint setting` }, { option: 'endpoint' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SsCardError(ErrorCode.Sync_Config, { zh: `平台地址 ${endpoint} 应以 https:// 或 http:// 开头`, en: `platform endpoint ${endpoint} must start with https:// or http://` }, { option: 'endpoint' });
    }
    if (tlsOpts !== undefined && url.protocol !== 'https:') {
      throw new SsCardError(ErrorCode.Sync_Config, { zh: '配置了客户端证书，但平台地址不是 https://', en: 'a client certificate is configured but the endpoint is not https://' }, { option: 'tls' });
    }
    if (tlsOpts !== undefined) checkTls(tlsOpts);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.base = url;
    this.lib = url.protocol === 'https:' ? https : http;
    this.agent =
      url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 4, ...(tlsOpts ?? {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  public close(): void {
    this.agent.destroy();
  }

  /**
   * `path` is relative to the endpoint (e.g. "v1/operations"). A `304 Not Modified` (the answer to
   * an `if-none-match` in `headers`) resolves with status 304 and body null.
   */
  public request(method: 'GET' | 'POST', path: string, body?: unknown, headers: Readonly<Record<string, string>> = {}): Promise<JsonResponse> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise<JsonResponse>((resolve, reject) => {
      let settled = false;
      const done = (err: SsCardError | undefined, res?: JsonResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(res!);
      };
      const req = this.lib.request(url, {
        method,
        agent: this.agent,
        headers: {
          accept: 'application/json',
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
          ...this.headers,
          ...headers,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        done(
          new SsCardError(
            ErrorCode.Sync_Timeout,
            {
              zh: `省级平台 ${this.base.origin} 在 ${this.timeoutMs} ms 内没有应答；记录保留在本机，稍后自动重试`,
              en: `the platform ${this.base.origin} did not answer within ${this.timeoutMs} ms; the records stay on this terminal and will be retried`,
            },
            { url: url.href, timeoutMs: this.timeoutMs },
          ),
        );
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        const tlsProblem = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code);
        // An alert from the platform: it refused this terminal's certificate (or its absence).
        // Anything else TLS: this terminal does not trust the platform and sent nothing.
        const refusedByPlatform = /^ERR_SSL_.*ALERT/.test(code);
        done(
          new SsCardError(
            tlsProblem ? ErrorCode.Sync_Config : ErrorCode.Sync_Unreachable,
            tlsProblem && refusedByPlatform
              ? {
                  zh: `省级平台 ${this.base.origin} 在 TLS 握手中拒绝了本终端（${code}）：请检查终端证书与私钥（--cert、--tls-key）是否由平台认可的 CA 签发且未过期；记录保留在本机`,
                  en: `the platform ${this.base.origin} refused this terminal in the TLS handshake (${code}): check that the terminal certificate and key (--cert, --tls-key) are issued by a CA the platform accepts and still valid; the records stay on this terminal`,
                }
              : tlsProblem
              ? {
                  zh: `与省级平台 ${this.base.origin} 的 TLS 握手失败（${code}），未发送任何记录：平台证书不受信任或与地址不符；请检查平台 CA（--ca）与平台地址`,
                  en: `TLS handshake with the platform ${this.base.origin} failed (${code}) and nothing was sent: the platform's certificate is not trusted or does not match the address; check the platform CA (--ca) and the endpoint`,
                }
              : {
                  zh: `无法连接省级平台 ${this.base.origin}（${code || err.message}）。业务照常办理，记录保存在本机，网络恢复后自动上传；若长时间如此，请检查网络与平台地址`,
                  en: `cannot reach the platform ${this.base.origin} (${code || err.message}). Services go on; records are kept on this terminal and uploaded when the network is back; if this lasts, check the network and the endpoint`,
                },
            { url: url.href, code, transient: UNREACHABLE.has(code) || code === '' },
            { cause: err },
          ),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            done(badResponse(method === 'GET' ? '挂失名单 / hotlist' : '上传 / push', `超过 ${MAX_RESPONSE_BYTES} 字节 / larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', () => done(new SsCardError(ErrorCode.Sync_Unreachable, { zh: '读取平台应答时连接断开；稍后自动重试', en: 'the connection broke while reading the platform\'s answer; will retry' }, { url: url.href })));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status === 304 && headers['if-none-match'] !== undefined) {
            done(undefined, { status, body: null });
            return;
          }
          if (status < 200 || status >= 300) {
            const hint =
              status === 401 || status === 403
                ? { zh: '平台拒绝了本终端：请检查终端证书与终端编号是否已在平台登记', en: 'the platform refused this terminal: check that its certificate and terminal id are registered' }
                : status >= 500
                  ? { zh: '平台暂时故障；记录保留在本机，稍后自动重试', en: 'the platform has a temporary fault; the records stay here and will be retried' }
                  : { zh: '平台不接受此请求；请确认平台地址与协议版本', en: 'the platform does not accept this request; check the endpoint and the protocol version' };
            done(
              new SsCardError(
                ErrorCode.Sync_HttpStatus,
                { zh: `省级平台应答 HTTP ${status}（${url.pathname}）：${hint.zh}`, en: `the platform answered HTTP ${status} (${url.pathname}): ${hint.en}` },
                { url: url.href, status },
              ),
            );
            return;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(text) as unknown;
          } catch {
            done(badResponse(method === 'GET' ? '挂失名单 / hotlist' : '上传 / push', '不是 JSON / not JSON', { url: url.href }));
            return;
          }
          done(undefined, { status, body: parsed });
        });
      });
      req.end(payload);
    });
  }
}

/** Refuse unusable TLS material up front (a client certificate without its key, PEM that does not parse, a key that does not match). */
function checkTls(t: TlsOptions): void {
  if ((t.cert === undefined) !== (t.key === undefined)) {
    throw new SsCardError(
      ErrorCode.Sync_Config,
      { zh: '终端证书与私钥须同时配置（--cert 与 --tls-key）', en: 'the client certificate and its key go together (--cert with --tls-key)' },
      { option: 'tls' },
    );
  }
  try {
    tls.createSecureContext({ ...t });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SsCardError(
      ErrorCode.Sync_Config,
      { zh: `终端证书、私钥或平台 CA 无法使用（${why}）：请检查 PEM 文件与私钥口令`, en: `the client certificate, key or platform CA cannot be used (${why}): check the PEM files and the key passphrase` },
      { option: 'tls' },
      { cause: err },
    );
  }
}
