/*
 * SSCardDriver — the reader vendors' interface to the social security card (docs/domain.md §4), as
 * libSSCardDriver.so from this repository implements it: every call is forwarded to the sscard daemon
 * (docs/api.md "SSCardDriver calls") over its driver socket, so a program linked against a vendor's
 * library runs unchanged against any reader the daemon drives (docs/sscard-driver.md).
 *
 * Text in and out is GBK (set SSCARD_DRIVER_ENCODING=GB18030 or UTF-8 to change it). Each output
 * buffer must hold SSCARD_OUT_SIZE bytes (SSCARD_READER_SN_SIZE / SSCARD_PSAM_NO_SIZE for
 * iGetReaderInfo); the library never writes more, and a text that does not fit is cut at a character
 * boundary. Return value: 0 on success, else the vendors' code (docs/domain.md §4, docs/api.md).
 */
#ifndef SSCARD_DRIVER_H
#define SSCARD_DRIVER_H

#ifdef __cplusplus
extern "C" {
#endif

/* The output buffer size the vendors' samples allocate, and the most this library writes (with the NUL). */
#define SSCARD_OUT_SIZE 1024
#define SSCARD_READER_SN_SIZE 64
#define SSCARD_PSAM_NO_SIZE 64

/* Codes this library gives itself, before or instead of the daemon's answer. */
#define SSCARD_E_CONNECTION (-11)   /* the daemon could not be reached, or did not answer in time */
#define SSCARD_E_PARAMETER (-14)    /* a NULL buffer, an argument longer than the library accepts */
#define SSCARD_E_DATA_INVALID (-23) /* an argument that is not text in the configured encoding */

long iReadCardBas(int iType, char *pOutInfo);
long iVerifyPIN(int iType, char *pOutInfo);
long iChangePIN(int iType, char *pOutInfo);
long iReloadPIN(int iType, char *pCardInfo, char *pOutInfo);
long iUnblockPIN(int iType, char *pCardInfo, char *pOutInfo);
long iGetReaderInfo(char *pReaderSN, char *pPsamTermNo);
long iReadCard(int iType, int iAuthType, char *pCardInfo, char *pFileAddr, char *pOutInfo);
long iWriteCard(int iType, char *pCardInfo, char *pFileAddr, char *pWriteData, char *pOutInfo);

long iReadCardBas_HSM_Step1(int iType, char *pOutInfo);
long iReadCardBas_HSM_Step2(char *pKey, char *pOutInfo);
long iReadCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo);
long iReadCard_HSM_Step2(char *pKey, char *pOutInfo);
long iWriteCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo);
long iWriteCard_HSM_Step2(char *pKey, char *pWriteData, char *pOutInfo);
long iReloadPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo);
long iReloadPIN_HSM_Step2(char *pKey, char *pOutInfo);
long iReloadPIN_HSM_Step3(char *pKey, char *pOutInfo);
long iUnblockPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo);
long iUnblockPIN_HSM_Step2(char *pKey, char *pOutInfo);
long iUnblockPIN_HSM_Step3(char *pKey, char *pOutInfo);

#ifdef __cplusplus
}
#endif

#endif
