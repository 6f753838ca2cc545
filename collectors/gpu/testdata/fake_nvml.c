/*
 * A stand-in libnvidia-ml.so.1 for tests: the real struct layouts and signatures (nvml.h,
 * driver 550), two devices, and NVML_ERROR_INSUFFICIENT_SIZE when a caller's array is short.
 * Build: cc -shared -fPIC -o libnvidia-ml.so.1 fake_nvml.c  (-DFAIL_INIT: no driver loaded;
 * -DNO_TOTAL_ENERGY: a driver without nvmlDeviceGetTotalEnergyConsumption).
 *
 * Total energy (device 0 only; device 1 is pre-Volta: NOT_SUPPORTED), read from the environment
 * at each call: the n-th call (n = 1, 2, … on this device, init's probe included) answers
 * FAKE_NVML_ENERGY_START_MJ + n × FAKE_NVML_ENERGY_STEP_MJ (defaults 5e12 and 1500: above 2³²,
 * so the u64 decode is exercised). FAKE_NVML_ENERGY_RESET_AT=r: from call r on the counter
 * restarts from 0 (a driver reload). FAKE_NVML_ENERGY=off: NOT_SUPPORTED on every device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v2_t;
typedef struct {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;
typedef struct fake_dev { unsigned int index; } *nvmlDevice_t;

#define NA 0xFFFFFFFFFFFFFFFFULL
#define MIB (1024ULL * 1024ULL)
static struct fake_dev devs[2] = {{0}, {1}};
static int initialised = 0;

int nvmlInit_v2(void) {
#ifdef FAIL_INIT
  return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
#endif
  initialised = 1;
  return 0;
}
int nvmlShutdown(void) { initialised = 0; return 0; }
int nvmlSystemGetDriverVersion(char *b, unsigned int n) { snprintf(b, n, "550.54.15"); return 0; }
int nvmlDeviceGetCount_v2(unsigned int *c) { *c = 2; return initialised ? 0 : 1; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
  if (i > 1) return 2;
  *d = &devs[i];
  return 0;
}
int nvmlDeviceGetName(nvmlDevice_t d, char *b, unsigned int n) {
  snprintf(b, n, "NVIDIA Fake GPU %u", d->index);
  return 0;
}
int nvmlDeviceGetUUID(nvmlDevice_t d, char *b, unsigned int n) {
  snprintf(b, n, "GPU-00000000-0000-0000-0000-00000000000%u", d->index);
  return 0;
}
int nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "0000:%02X:00.0", 7 + 8 * d->index);
  snprintf(p->busId, sizeof p->busId, "00000000:%02X:00.0", 7 + 8 * d->index);
  p->bus = 7 + 8 * d->index;
  p->pciDeviceId = 0x20b210de;
  return 0;
}
int nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  u->gpu = d->index == 0 ? 87 : 0;
  u->memory = 40;
  return 0;
}
int nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  m->total = 81920 * MIB;
  m->used = d->index == 0 ? 40500 * MIB : 4 * MIB;
  m->free = m->total - m->used;
  return 0;
}
int nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t) {
  if (sensor != 0) return 2;
  if (d->index == 1) return 3; /* NOT_SUPPORTED: the collector reports 0 */
  *t = 61;
  return 0;
}
int nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
  *mw = d->index == 0 ? 312450 : 61200;
  return 0;
}
int nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int *mhz) {
  if (type != 0) return 2;
  *mhz = d->index == 0 ? 1410 : 210;
  return 0;
}

static int fill(const nvmlProcessInfo_v2_t *src, unsigned int n, unsigned int *count,
                nvmlProcessInfo_v2_t *out) {
  if (*count < n) { *count = n; return 7; } /* NVML_ERROR_INSUFFICIENT_SIZE */
  if (n > 0) memcpy(out, src, n * sizeof *src);
  *count = n;
  return 0;
}
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count,
                                            nvmlProcessInfo_v2_t *out) {
  static const nvmlProcessInfo_v2_t p0[] = {
      {4242, 40000 * MIB, 0xFFFFFFFF, 0xFFFFFFFF},
      {4243, NA, 0xFFFFFFFF, 0xFFFFFFFF},
      {4244, 480 * MIB, 0xFFFFFFFF, 0xFFFFFFFF},
  };
  return d->index == 0 ? fill(p0, 3, count, out) : fill(NULL, 0, count, out);
}
int nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t d, unsigned int *count,
                                             nvmlProcessInfo_v2_t *out) {
  static const nvmlProcessInfo_v2_t p1[] = {{5000, 512 * MIB, 0xFFFFFFFF, 0xFFFFFFFF}};
  static const nvmlProcessInfo_v2_t p0[] = {{4242, 40000 * MIB, 0xFFFFFFFF, 0xFFFFFFFF}};
  return d->index == 0 ? fill(p0, 1, count, out) : fill(p1, 1, count, out);
}
int nvmlDeviceGetProcessUtilization(nvmlDevice_t d, nvmlProcessUtilizationSample_t *s,
                                    unsigned int *count, unsigned long long lastSeen) {
  static const nvmlProcessUtilizationSample_t p0[] = {
      {4242, 1700000000000100ULL, 50, 10, 0, 0},
      {4243, 1700000000000150ULL, 5, 1, 0, 0},
      {4242, 1700000000000200ULL, 80, 20, 0, 0},
  };
  (void)lastSeen;
  if (d->index == 1) return 6; /* NOT_FOUND: no samples */
  if (s == NULL || *count < 3) { *count = 3; return 7; }
  memcpy(s, p0, sizeof p0);
  *count = 3;
  return 0;
}

#ifndef NO_TOTAL_ENERGY
static unsigned long long env_u64(const char *name, unsigned long long dflt) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}
int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
  static unsigned long long calls = 0;
  const char *mode = getenv("FAKE_NVML_ENERGY");
  if (d->index != 0 || (mode != NULL && strcmp(mode, "off") == 0)) return 3; /* NOT_SUPPORTED */
  unsigned long long n = ++calls;
  unsigned long long step = env_u64("FAKE_NVML_ENERGY_STEP_MJ", 1500);
  unsigned long long reset = env_u64("FAKE_NVML_ENERGY_RESET_AT", 0);
  if (reset > 0 && n >= reset) *mj = (n - reset) * step;
  else *mj = env_u64("FAKE_NVML_ENERGY_START_MJ", 5000000000000ULL) + n * step;
  return 0;
}
#endif
