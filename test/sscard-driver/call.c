/*
 * The C side of test/sscard-driver.test.ts: calls one function of libSSCardDriver.so (linked, as an
 * integrator's program links it) and prints its return value and output, so that the suite can
 * check every function against the simulating daemon.
 *
 *   call <function> [argument ...]
 *
 * Integer arguments are decimal; a string argument is its text, `hex:<bytes>` for arbitrary bytes
 * (e.g. text that is not GBK) or `null` for a NULL pointer. Prints `<code>` and then each output
 * buffer in hex on its own line. Every output buffer is a heap block of exactly the documented size
 * (followed by guard bytes, except in the asan build): a write past the size is reported by
 * AddressSanitizer in the asan build and exits 3 by the guard otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../native/sscard-driver/SSCardDriver.h"

/* With AddressSanitizer the block is exactly the documented size, so that ASan itself reports a
 * write past it; otherwise guard bytes after it catch one. */
#ifdef __SANITIZE_ADDRESS__
#define GUARD 0
#else
#define GUARD 64
#endif

static char *out_buffer(size_t size) {
  unsigned char *b = malloc(size + GUARD);
  if (b == NULL) exit(4);
  memset(b, 0xA5, size + GUARD);
  return (char *)b;
}

static void check_guard(const char *b, size_t size, const char *name) {
  for (size_t i = size; i < size + GUARD; i++) {
    if ((unsigned char)b[i] != 0xA5) {
      fprintf(stderr, "%s: written past its %zu bytes\n", name, size);
      exit(3);
    }
  }
  if (memchr(b, '\0', size) == NULL) {
    fprintf(stderr, "%s: not NUL-terminated within its %zu bytes\n", name, size);
    exit(3);
  }
}

static void print_hex(const char *b) {
  for (const unsigned char *p = (const unsigned char *)b; *p != '\0'; p++) printf("%02x", *p);
  printf("\n");
}

/* The string arguments made, freed at exit (the asan build checks for leaks). */
static char *made[8];
static int n_made;

static void free_args(void) {
  for (int i = 0; i < n_made; i++) free(made[i]);
}

static char *keep(char *s) {
  if (n_made < 8) made[n_made++] = s;
  return s;
}

static char *text_arg(const char *a) {
  if (strcmp(a, "null") == 0) return NULL;
  if (strncmp(a, "hex:", 4) != 0) return keep(strdup(a));
  size_t n = strlen(a + 4) / 2;
  char *s = malloc(n + 1);
  if (s == NULL) exit(4);
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    if (sscanf(a + 4 + 2 * i, "%2x", &v) != 1) exit(2);
    s[i] = (char)v;
  }
  s[n] = '\0';
  return keep(s);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: call <function> [argument ...]\n");
    return 2;
  }
  atexit(free_args);
  const char *fn = argv[1];
  char **a = argv + 2;
  int n = argc - 2;
#define NEED(k)                                              \
  if (n != (k)) {                                            \
    fprintf(stderr, "%s takes %d arguments\n", fn, (k));     \
    return 2;                                                \
  }
  char *out = out_buffer(SSCARD_OUT_SIZE);
  long code;
  if (strcmp(fn, "iGetReaderInfo") == 0) {
    NEED(0);
    char *sn = out_buffer(SSCARD_READER_SN_SIZE);
    char *psam = out_buffer(SSCARD_PSAM_NO_SIZE);
    code = iGetReaderInfo(sn, psam);
    check_guard(sn, SSCARD_READER_SN_SIZE, "pReaderSN");
    check_guard(psam, SSCARD_PSAM_NO_SIZE, "pPsamTermNo");
    printf("%ld\n", code);
    print_hex(sn);
    print_hex(psam);
    free(sn);
    free(psam);
    free(out);
    return 0;
  } else if (strcmp(fn, "iReadCardBas") == 0) {
    NEED(1);
    code = iReadCardBas(atoi(a[0]), out);
  } else if (strcmp(fn, "iVerifyPIN") == 0) {
    NEED(1);
    code = iVerifyPIN(atoi(a[0]), out);
  } else if (strcmp(fn, "iChangePIN") == 0) {
    NEED(1);
    code = iChangePIN(atoi(a[0]), out);
  } else if (strcmp(fn, "iReloadPIN") == 0) {
    NEED(2);
    code = iReloadPIN(atoi(a[0]), text_arg(a[1]), out);
  } else if (strcmp(fn, "iUnblockPIN") == 0) {
    NEED(2);
    code = iUnblockPIN(atoi(a[0]), text_arg(a[1]), out);
  } else if (strcmp(fn, "iReadCard") == 0) {
    NEED(4);
    code = iReadCard(atoi(a[0]), atoi(a[1]), text_arg(a[2]), text_arg(a[3]), out);
  } else if (strcmp(fn, "iWriteCard") == 0) {
    NEED(4);
    code = iWriteCard(atoi(a[0]), text_arg(a[1]), text_arg(a[2]), text_arg(a[3]), out);
  } else if (strcmp(fn, "iReadCardBas_HSM_Step1") == 0) {
    NEED(1);
    code = iReadCardBas_HSM_Step1(atoi(a[0]), out);
  } else if (strcmp(fn, "iReadCardBas_HSM_Step2") == 0) {
    NEED(1);
    code = iReadCardBas_HSM_Step2(text_arg(a[0]), out);
  } else if (strcmp(fn, "iReadCard_HSM_Step1") == 0) {
    NEED(3);
    code = iReadCard_HSM_Step1(atoi(a[0]), text_arg(a[1]), text_arg(a[2]), out);
  } else if (strcmp(fn, "iReadCard_HSM_Step2") == 0) {
    NEED(1);
    code = iReadCard_HSM_Step2(text_arg(a[0]), out);
  } else if (strcmp(fn, "iWriteCard_HSM_Step1") == 0) {
    NEED(3);
    code = iWriteCard_HSM_Step1(atoi(a[0]), text_arg(a[1]), text_arg(a[2]), out);
  } else if (strcmp(fn, "iWriteCard_HSM_Step2") == 0) {
    NEED(2);
    code = iWriteCard_HSM_Step2(text_arg(a[0]), text_arg(a[1]), out);
  } else if (strcmp(fn, "iReloadPIN_HSM_Step1") == 0) {
    NEED(2);
    code = iReloadPIN_HSM_Step1(atoi(a[0]), text_arg(a[1]), out);
  } else if (strcmp(fn, "iReloadPIN_HSM_Step2") == 0) {
    NEED(1);
    code = iReloadPIN_HSM_Step2(text_arg(a[0]), out);
  } else if (strcmp(fn, "iReloadPIN_HSM_Step3") == 0) {
    NEED(1);
    code = iReloadPIN_HSM_Step3(text_arg(a[0]), out);
  } else if (strcmp(fn, "iUnblockPIN_HSM_Step1") == 0) {
    NEED(2);
    code = iUnblockPIN_HSM_Step1(atoi(a[0]), text_arg(a[1]), out);
  } else if (strcmp(fn, "iUnblockPIN_HSM_Step2") == 0) {
    NEED(1);
    code = iUnblockPIN_HSM_Step2(text_arg(a[0]), out);
  } else if (strcmp(fn, "iUnblockPIN_HSM_Step3") == 0) {
    NEED(1);
    code = iUnblockPIN_HSM_Step3(text_arg(a[0]), out);
  } else if (strcmp(fn, "nullOutput") == 0) {
    /* A NULL output buffer: the library must answer -14 without touching memory. */
    NEED(0);
    code = iReadCardBas(1, NULL);
    printf("%ld\n\n", code);
    free(out);
    return 0;
  } else {
    fprintf(stderr, "unknown function %s\n", fn);
    return 2;
  }
  check_guard(out, SSCARD_OUT_SIZE, "pOutInfo");
  printf("%ld\n", code);
  print_hex(out);
  free(out);
  return 0;
}
