/*
 * libSSCardDriver.so: the vendors' SSCardDriver functions (docs/domain.md §4, SSCardDriver.h), each
 * forwarded to the sscard daemon as `POST /sscard/<function>` (docs/api.md "SSCardDriver calls") over
 * the daemon's driver socket, a Unix socket whose file permissions say who may use it
 * (docs/sscard-driver.md). The answer's `X-SSCard-Return` header is the return value and its body
 * the output text, converted from UTF-8 to the caller's encoding (GBK unless configured).
 *
 * Environment (read on every call; nothing is kept between calls, so the library is thread-safe):
 *   SSCARD_DRIVER_SOCKET      the daemon's driver socket (default /run/sscard/driver.sock)
 *   SSCARD_DRIVER_TIMEOUT_MS  how long a call may take, PIN entry included (default 180000)
 *   SSCARD_DRIVER_ENCODING    GBK (default), GB18030 or UTF-8: the text in and out
 *   SSCARD_DRIVER_TOKEN       an operator's session token, for functions the terminal's role makes
 *                             privileged (docs/api.md "SSCardDriver calls")
 *
 * The library never writes past SSCARD_OUT_SIZE bytes of an output buffer (the NUL included), never
 * raises SIGPIPE in the caller, and never waits longer than the timeout.
 */
#define _POSIX_C_SOURCE 200809L
#include "SSCardDriver.h"

#include <errno.h>
#include <iconv.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#define DEFAULT_SOCKET "/run/sscard/driver.sock"
#define DEFAULT_TIMEOUT_MS 180000L
/* The longest argument accepted (a file address with every record, write data of a whole record). */
#define ARG_MAX_BYTES 1024
/* The largest answer read from the daemon (its texts are a few hundred bytes). */
#define ANSWER_MAX_BYTES (64 * 1024)

/* A growable byte buffer; `failed` once an allocation failed (the call then answers -999). */
typedef struct {
  char *data;
  size_t len;
  size_t cap;
  int failed;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) {
      b->failed = 1;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void buf_str(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_fmt(buf_t *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void buf_free(buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static const char *encoding(void) {
  const char *e = getenv("SSCARD_DRIVER_ENCODING");
  if (e == NULL || *e == '\0') return "GBK";
  if (strcasecmp(e, "UTF-8") == 0 || strcasecmp(e, "UTF8") == 0) return "UTF-8";
  if (strcasecmp(e, "GB18030") == 0) return "GB18030";
  return "GBK";
}

/* Bytes in the UTF-8 sequence that starts with byte c (1 for a stray byte, so that progress is made). */
static size_t utf8_len(unsigned char c) {
  if (c >= 0xF0 && c <= 0xF4) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  return 1;
}

/*
 * UTF-8 text → the caller's buffer of `size` bytes in the configured encoding, NUL-terminated, cut
 * at a character boundary when it does not fit; a character the encoding lacks becomes '?'.
 */
static void deliver(const char *utf8, size_t len, char *out, size_t size) {
  if (out == NULL || size == 0) return;
  size_t room = size - 1;
  const char *enc = encoding();
  if (strcmp(enc, "UTF-8") == 0) {
    size_t n = 0;
    while (n < len) {
      size_t l = utf8_len((unsigned char)utf8[n]);
      if (n + l > len || n + l > room) break;
      n += l;
    }
    memcpy(out, utf8, n);
    out[n] = '\0';
    return;
  }
  iconv_t cd = iconv_open(enc, "UTF-8");
  if (cd == (iconv_t)-1) {
    out[0] = '\0';
    return;
  }
  char *in = (char *)utf8;
  size_t in_left = len;
  char *o = out;
  size_t o_left = room;
  while (in_left > 0) {
    size_t r = iconv(cd, &in, &in_left, &o, &o_left);
    if (r != (size_t)-1) break;
    if (errno == EILSEQ) {
      if (o_left == 0) break;
      *o++ = '?';
      o_left--;
      size_t l = utf8_len((unsigned char)*in);
      if (l > in_left) l = in_left;
      in += l;
      in_left -= l;
      continue;
    }
    break; /* E2BIG: full (iconv never writes half a character); EINVAL: a cut sequence */
  }
  *o = '\0';
  iconv_close(cd);
}

/* The library's own answer: `text` (UTF-8, "中文 / English") to the caller's buffer, and the code. */
static long own_answer(long code, const char *text, char *out, size_t size) {
  deliver(text, strlen(text), out, size);
  return code;
}

/* One argument of a call: a number, or a caller's string (in the configured encoding). */
typedef struct {
  const char *name;
  int is_text;
  long number;
  const char *text;
} arg_t;

#define NUM(n, v) {(n), 0, (long)(v), NULL}
#define TEXT(n, v) {(n), 1, 0, (v)}

/* `s` as a JSON string (RFC 8259 §7) of its UTF-8 form; 0, or the error code with a message in `why`. */
static long json_text(buf_t *json, const char *name, const char *s, buf_t *why) {
  if (s == NULL) {
    buf_fmt(why, "参数 %s 为空指针 / argument %s is a NULL pointer", name, name);
    return SSCARD_E_PARAMETER;
  }
  size_t len = strnlen(s, ARG_MAX_BYTES + 1);
  if (len > ARG_MAX_BYTES) {
    buf_fmt(why, "参数 %s 超过 %d 字节：请检查传入的字符串 / argument %s is longer than %d bytes: check the string passed", name, ARG_MAX_BYTES, name, ARG_MAX_BYTES);
    return SSCARD_E_PARAMETER;
  }
  char utf8[ARG_MAX_BYTES * 4 + 1];
  size_t ulen;
  const char *enc = encoding();
  if (strcmp(enc, "UTF-8") == 0) {
    memcpy(utf8, s, len);
    ulen = len;
  } else {
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1) {
      buf_fmt(why, "系统不支持 %s 编码转换 / the system cannot convert from %s", enc, enc);
      return -999;
    }
    char *in = (char *)s;
    size_t in_left = len;
    char *o = utf8;
    size_t o_left = sizeof utf8 - 1;
    size_t r = iconv(cd, &in, &in_left, &o, &o_left);
    iconv_close(cd);
    if (r == (size_t)-1) {
      buf_fmt(why, "参数 %s 不是 %s 编码的文本（第 %zu 字节起）/ argument %s is not %s text (from byte %zu)", name, enc, len - in_left, name, enc, len - in_left);
      return SSCARD_E_DATA_INVALID;
    }
    ulen = (size_t)(o - utf8);
  }
  /* UTF-8 passed through must be valid too: the daemon would refuse it anyway, say why here. */
  for (size_t i = 0; i < ulen;) {
    unsigned char c = (unsigned char)utf8[i];
    size_t l = utf8_len(c);
    int ok = !(c >= 0x80 && l == 1) && i + l <= ulen;
    for (size_t k = 1; ok && k < l; k++) ok = ((unsigned char)utf8[i + k] & 0xC0) == 0x80;
    if (!ok) {
      buf_fmt(why, "参数 %s 不是 UTF-8 文本（第 %zu 字节）/ argument %s is not UTF-8 text (byte %zu)", name, i, name, i);
      return SSCARD_E_DATA_INVALID;
    }
    i += l;
  }
  buf_fmt(json, "\"%s\":\"", name);
  for (size_t i = 0; i < ulen; i++) {
    unsigned char c = (unsigned char)utf8[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      buf_add(json, e, 2);
    } else if (c < 0x20) {
      buf_fmt(json, "\\u%04x", c);
    } else {
      buf_add(json, (const char *)&utf8[i], 1);
    }
  }
  buf_str(json, "\"");
  return 0;
}

static long remaining_ms(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (long)(deadline->tv_sec - now.tv_sec) * 1000L + (deadline->tv_nsec - now.tv_nsec) / 1000000L;
  return ms < 0 ? 0 : ms;
}

/* Waits until fd is ready for `events`; 0, or -1 with errno ETIMEDOUT. */
static int wait_fd(int fd, short events, const struct timespec *deadline) {
  for (;;) {
    long ms = remaining_ms(deadline);
    if (ms == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, ms > 2147483647L ? 2147483647 : (int)ms);
    if (r > 0) return 0;
    if (r == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    if (errno != EINTR) return -1;
  }
}

/*
 * The exchange with the daemon: the request out, the whole answer (up to ANSWER_MAX_BYTES) in.
 * 0, or -1 with errno and `stage` naming what failed.
 */
static int exchange(const char *path, const buf_t *request, buf_t *answer, long timeout_ms, const char **stage) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  *stage = "connect";
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int rc = -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    /* A Unix socket whose backlog is full answers EAGAIN: the daemon is there but busy; wait. */
    if (errno != EAGAIN && errno != EINPROGRESS) goto done;
    if (wait_fd(fd, POLLOUT, &deadline) != 0) goto done;
    int err = 0;
    socklen_t l = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0) goto done;
    if (err != 0) {
      errno = err;
      goto done;
    }
  }
  *stage = "send";
  for (size_t sent = 0; sent < request->len;) {
    ssize_t n = send(fd, request->data + sent, request->len - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLOUT, &deadline) != 0) goto done;
    } else {
      goto done;
    }
  }
  *stage = "receive";
  for (;;) {
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      if (answer->len + (size_t)n > ANSWER_MAX_BYTES) {
        errno = EMSGSIZE;
        goto done;
      }
      buf_add(answer, chunk, (size_t)n);
      if (answer->failed) {
        errno = ENOMEM;
        goto done;
      }
    } else if (n == 0) {
      rc = 0;
      goto done;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (wait_fd(fd, POLLIN, &deadline) != 0) goto done;
    } else {
      goto done;
    }
  }
done:
  if (rc != 0) {
    int e = errno;
    close(fd);
    errno = e;
  } else {
    close(fd);
  }
  return rc;
}

/*
 * One call: the arguments as the JSON body of `POST /sscard/<fn>`, the answer's return code and
 * text. `text` gets the answer's UTF-8 text (or the library's own message); the return value is
 * the code.
 */
static long call(const char *fn, const arg_t *args, size_t nargs, buf_t *text) {
  buf_t json = {0};
  buf_str(&json, "{");
  for (size_t i = 0; i < nargs; i++) {
    if (i > 0) buf_str(&json, ",");
    if (args[i].is_text) {
      long e = json_text(&json, args[i].name, args[i].text, text);
      if (e != 0) {
        buf_free(&json);
        return e;
      }
    } else {
      buf_fmt(&json, "\"%s\":%ld", args[i].name, args[i].number);
    }
  }
  buf_str(&json, "}");

  const char *path = getenv("SSCARD_DRIVER_SOCKET");
  if (path == NULL || *path == '\0') path = DEFAULT_SOCKET;
  long timeout_ms = DEFAULT_TIMEOUT_MS;
  const char *t = getenv("SSCARD_DRIVER_TIMEOUT_MS");
  if (t != NULL && *t != '\0') {
    char *end = NULL;
    long v = strtol(t, &end, 10);
    if (end != NULL && *end == '\0' && v > 0) timeout_ms = v;
  }
  const char *token = getenv("SSCARD_DRIVER_TOKEN");

  buf_t request = {0};
  buf_fmt(&request, "POST /sscard/%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n", fn, json.len);
  /* A token with a line break would smuggle a header: such a token is not sent at all. */
  if (token != NULL && *token != '\0' && strpbrk(token, "\r\n") == NULL && strlen(token) <= 1024) {
    buf_str(&request, "Authorization: Bearer ");
    buf_str(&request, token);
    buf_str(&request, "\r\n");
  }
  buf_str(&request, "\r\n");
  buf_add(&request, json.data, json.len);
  buf_free(&json);
  if (request.failed) {
    buf_free(&request);
    buf_str(text, "内存不足 / out of memory");
    return -999;
  }

  buf_t answer = {0};
  const char *stage = "";
  int rc = exchange(path, &request, &answer, timeout_ms, &stage);
  buf_free(&request);
  if (rc != 0) {
    int e = errno;
    buf_free(&answer);
    if (e == ETIMEDOUT) {
      buf_fmt(text, "sscard 服务在 %ld 毫秒内没有应答（%s）：请检查 sscardd 的状态 / the sscard daemon did not answer within %ld ms (%s): check sscardd", timeout_ms, path, timeout_ms, path);
    } else {
      buf_fmt(text, "无法连接 sscard 服务（%s，%s：%s）：请确认 sscardd 在运行且本用户可访问该套接字 / cannot reach the sscard daemon (%s, %s: %s): check that sscardd runs and this user may use its socket", path, stage, strerror(e), path, stage, strerror(e));
    }
    return SSCARD_E_CONNECTION;
  }

  /* HTTP/1.1 (RFC 9112): the status line, the header fields, an empty line, the body. */
  long code = -999;
  int status = 0;
  char *head_end = answer.data == NULL ? NULL : strstr(answer.data, "\r\n\r\n");
  if (head_end == NULL || sscanf(answer.data, "HTTP/1.%*d %3d", &status) != 1) {
    buf_free(&answer);
    buf_str(text, "sscard 服务的应答无法识别：请检查套接字路径是否指向 sscardd / the answer on the socket is not the sscard daemon's: check the socket path");
    return SSCARD_E_CONNECTION;
  }
  *head_end = '\0';
  int have_code = 0;
  for (char *line = strstr(answer.data, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
    const char *field = line + 2;
    if (strncasecmp(field, "x-sscard-return:", 16) == 0) {
      char *end = NULL;
      long v = strtol(field + 16, &end, 10);
      if (end != field + 16) {
        code = v;
        have_code = 1;
      }
    }
  }
  if (!have_code) code = status == 401 || status == 403 ? -24 : status >= 400 && status < 500 ? SSCARD_E_PARAMETER : -999;
  const char *body = head_end + 4;
  buf_add(text, body, answer.len - (size_t)(body - answer.data));
  buf_free(&answer);
  return code;
}

/* call() with the text to one output buffer of SSCARD_OUT_SIZE bytes. */
static long forward(const char *fn, const arg_t *args, size_t nargs, char *out) {
  if (out == NULL) return SSCARD_E_PARAMETER;
  buf_t text = {0};
  long code = call(fn, args, nargs, &text);
  if (text.failed) {
    buf_free(&text);
    return own_answer(-999, "内存不足 / out of memory", out, SSCARD_OUT_SIZE);
  }
  deliver(text.data == NULL ? "" : text.data, text.len, out, SSCARD_OUT_SIZE);
  buf_free(&text);
  return code;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

EXPORT long iReadCardBas(int iType, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType)};
  return forward("iReadCardBas", a, COUNT(a), pOutInfo);
}

EXPORT long iVerifyPIN(int iType, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType)};
  return forward("iVerifyPIN", a, COUNT(a), pOutInfo);
}

EXPORT long iChangePIN(int iType, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType)};
  return forward("iChangePIN", a, COUNT(a), pOutInfo);
}

EXPORT long iReloadPIN(int iType, char *pCardInfo, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo)};
  return forward("iReloadPIN", a, COUNT(a), pOutInfo);
}

EXPORT long iUnblockPIN(int iType, char *pCardInfo, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo)};
  return forward("iUnblockPIN", a, COUNT(a), pOutInfo);
}

/* The daemon answers `<pReaderSN>|<pPsamTermNo>|` (docs/api.md); each field to its own buffer. */
EXPORT long iGetReaderInfo(char *pReaderSN, char *pPsamTermNo) {
  if (pReaderSN == NULL || pPsamTermNo == NULL) return SSCARD_E_PARAMETER;
  static const char no_memory[] = "内存不足 / out of memory";
  buf_t text = {0};
  long code = call("iGetReaderInfo", NULL, 0, &text);
  if (text.failed) code = -999;
  const char *s = text.failed || text.data == NULL ? (text.failed ? no_memory : "") : text.data;
  size_t len = text.failed ? strlen(no_memory) : text.len;
  const char *bar = strchr(s, '|');
  if (bar == NULL) {
    /* No fields: an error text; it goes to the first buffer, as an output text would. */
    deliver(s, len, pReaderSN, SSCARD_READER_SN_SIZE);
    pPsamTermNo[0] = '\0';
  } else {
    deliver(s, (size_t)(bar - s), pReaderSN, SSCARD_READER_SN_SIZE);
    const char *second = bar + 1;
    const char *bar2 = strchr(second, '|');
    deliver(second, bar2 == NULL ? strlen(second) : (size_t)(bar2 - second), pPsamTermNo, SSCARD_PSAM_NO_SIZE);
  }
  buf_free(&text);
  return code;
}

EXPORT long iReadCard(int iType, int iAuthType, char *pCardInfo, char *pFileAddr, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), NUM("iAuthType", iAuthType), TEXT("cardInfo", pCardInfo), TEXT("fileAddr", pFileAddr)};
  return forward("iReadCard", a, COUNT(a), pOutInfo);
}

EXPORT long iWriteCard(int iType, char *pCardInfo, char *pFileAddr, char *pWriteData, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo), TEXT("fileAddr", pFileAddr), TEXT("writeData", pWriteData)};
  return forward("iWriteCard", a, COUNT(a), pOutInfo);
}

EXPORT long iReadCardBas_HSM_Step1(int iType, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType)};
  return forward("iReadCardBas_HSM_Step1", a, COUNT(a), pOutInfo);
}

EXPORT long iReadCardBas_HSM_Step2(char *pKey, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey)};
  return forward("iReadCardBas_HSM_Step2", a, COUNT(a), pOutInfo);
}

EXPORT long iReadCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo), TEXT("fileAddr", pFileAddr)};
  return forward("iReadCard_HSM_Step1", a, COUNT(a), pOutInfo);
}

EXPORT long iReadCard_HSM_Step2(char *pKey, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey)};
  return forward("iReadCard_HSM_Step2", a, COUNT(a), pOutInfo);
}

EXPORT long iWriteCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo), TEXT("fileAddr", pFileAddr)};
  return forward("iWriteCard_HSM_Step1", a, COUNT(a), pOutInfo);
}

EXPORT long iWriteCard_HSM_Step2(char *pKey, char *pWriteData, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey), TEXT("writeData", pWriteData)};
  return forward("iWriteCard_HSM_Step2", a, COUNT(a), pOutInfo);
}

EXPORT long iReloadPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo)};
  return forward("iReloadPIN_HSM_Step1", a, COUNT(a), pOutInfo);
}

EXPORT long iReloadPIN_HSM_Step2(char *pKey, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey)};
  return forward("iReloadPIN_HSM_Step2", a, COUNT(a), pOutInfo);
}

EXPORT long iReloadPIN_HSM_Step3(char *pKey, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey)};
  return forward("iReloadPIN_HSM_Step3", a, COUNT(a), pOutInfo);
}

EXPORT long iUnblockPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo) {
  arg_t a[] = {NUM("iType", iType), TEXT("cardInfo", pCardInfo)};
  return forward("iUnblockPIN_HSM_Step1", a, COUNT(a), pOutInfo);
}

EXPORT long iUnblockPIN_HSM_Step2(char *pKey, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey)};
  return forward("iUnblockPIN_HSM_Step2", a, COUNT(a), pOutInfo);
}

EXPORT long iUnblockPIN_HSM_Step3(char *pKey, char *pOutInfo) {
  arg_t a[] = {TEXT("key", pKey)};
  return forward("iUnblockPIN_HSM_Step3", a, COUNT(a), pOutInfo);
}
