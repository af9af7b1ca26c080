// io.c — guest-side WASI I/O: small fd_write calls on the descriptors the host lists are
// appended to the batch in the IO region, and small fd_read calls inside a read window the
// host filled are answered from it, with no host call (no VM exit). The host drains the batch
// and learns how much of each window was consumed at the next host call of any kind and when
// the request ends (docs/ARCHITECTURE.md, "WASI I/O"). Anything not plainly a success (a bad
// pointer, a large transfer, a full batch, a pending write error) goes to the host, which
// answers as it always has. Every value read from the mailbox is range-checked first.
#include "rt.h"

static bool in_mem(uint64_t ptr, uint64_t len, uint64_t size) { return ptr <= size && len <= size - ptr; }

static uint32_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static void store32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

// The iovecs of the call being answered, loaded once (as the host does: a read that overwrites
// its own iovec array must not change where it writes).
static uint32_t iov_buf[HL_IO_MAX_IOVECS], iov_len[HL_IO_MAX_IOVECS];

// iovecs checks fd_write/fd_read's iovec array and buffers exactly as the host would (the whole
// array in memory, at most HL_IO_MAX_IOVECS of them used, every buffer in memory), loads them
// into iov_buf/iov_len and returns their total length, or UINT64_MAX if the host must answer.
static uint64_t iovecs(const uint8_t *mem, uint64_t size, uint64_t iovs, uint64_t *count, uint64_t result) {
  if (!in_mem(result, 4, size) || *count > size / 8 || !in_mem(iovs, *count * 8, size)) return UINT64_MAX;
  if (*count > HL_IO_MAX_IOVECS) *count = HL_IO_MAX_IOVECS;
  uint64_t total = 0;
  for (uint64_t i = 0; i < *count; i++) {
    uint32_t buf = load32(mem + iovs + 8 * i), len = load32(mem + iovs + 8 * i + 4);
    if (!in_mem(buf, len, size)) return UINT64_MAX;
    total += len;
    if (total > HL_IO_DIRECT_MAX) return UINT64_MAX;
    iov_buf[i] = buf;
    iov_len[i] = len;
  }
  return total;
}

static bool io_write(uint64_t *slots, uint8_t *mem, uint64_t size) {
  uint32_t fd = (uint32_t)slots[0], kind = 0;
  for (uint32_t i = 0; i < HL_IO_OUT_FDS && !kind; i++)
    if (MB_U32(HL_MB_IO_OUT_KIND + 4 * i) && MB_U32(HL_MB_IO_OUT_FD + 4 * i) == fd) kind = MB_U32(HL_MB_IO_OUT_KIND + 4 * i);
  if (kind != HL_IO_KIND_STDOUT && kind != HL_IO_KIND_STDERR) return false;
  if (MB_U32(HL_MB_IO_ERR_KINDS) & (1u << kind)) return false; // the host reports the error
  uint64_t iovs = (uint32_t)slots[1], count = (uint32_t)slots[2], result = (uint32_t)slots[3];
  uint64_t total = iovecs(mem, size, iovs, &count, result);
  if (total == UINT64_MAX) return false;
  uint32_t len = MB_U32(HL_MB_IO_BATCH_LEN);
  if (len > HL_IO_BATCH_SIZE || (len && MB_U32(HL_MB_IO_BATCH_KIND) != kind) || total > HL_IO_BATCH_SIZE - len)
    return false; // the host takes the batch first, then this write
  uint8_t *batch = (uint8_t *)(uintptr_t)HL_IO_BATCH_ADDR;
  for (uint64_t i = 0; i < count; i++) {
    memcpy(batch + len, mem + iov_buf[i], iov_len[i]);
    len += iov_len[i];
  }
  MB_U32(HL_MB_IO_BATCH_KIND) = kind;
  MB_U32(HL_MB_IO_BATCH_LEN) = len;
  store32(mem + result, (uint32_t)total);
  slots[0] = 0; // ESUCCESS
  return true;
}

static bool io_read(uint64_t *slots, uint8_t *mem, uint64_t size) {
  uint32_t fd = (uint32_t)slots[0], w = HL_IO_WINDOWS;
  for (uint32_t i = 0; i < HL_IO_WINDOWS && w == HL_IO_WINDOWS; i++)
    if (MB_U32(HL_MB_IO_WIN_LEN + 4 * i) && MB_U32(HL_MB_IO_WIN_FD + 4 * i) == fd) w = i;
  if (w == HL_IO_WINDOWS) return false;
  uint32_t wlen = MB_U32(HL_MB_IO_WIN_LEN + 4 * w), pos = MB_U32(HL_MB_IO_WIN_POS + 4 * w);
  if (wlen > HL_IO_WIN_SIZE || pos > wlen) return false;
  uint64_t iovs = (uint32_t)slots[1], count = (uint32_t)slots[2], result = (uint32_t)slots[3];
  uint64_t total = iovecs(mem, size, iovs, &count, result);
  if (total == UINT64_MAX) return false;
  uint64_t avail = wlen - pos;
  if (total > avail && !MB_U32(HL_MB_IO_WIN_EOF + 4 * w)) return false; // the host refills
  const uint8_t *src = (const uint8_t *)(uintptr_t)(HL_IO_WIN_ADDR + (uint64_t)w * HL_IO_WIN_SIZE) + pos;
  uint64_t got = 0;
  for (uint64_t i = 0; i < count && got < avail; i++) {
    uint64_t c = iov_len[i] < avail - got ? iov_len[i] : avail - got;
    memcpy(mem + iov_buf[i], src + got, c);
    got += c;
  }
  MB_U32(HL_MB_IO_WIN_POS + 4 * w) = pos + (uint32_t)got;
  store32(mem + result, (uint32_t)got);
  slots[0] = 0;
  return true;
}

bool rt_io_local(uint32_t id, uint64_t *slots, uint32_t nparams, uint32_t nresults, uint8_t *mem, uint64_t size) {
  if (!(MB_U32(HL_MB_IO_FLAGS) & HL_IO_ENABLED) || !mem || nparams != 4 || nresults != 1) return false;
  bool done = false;
  if (id == MB_U32(HL_MB_IO_WRITE_FUNC))
    done = io_write(slots, mem, size);
  else if (id == MB_U32(HL_MB_IO_READ_FUNC))
    done = io_read(slots, mem, size);
  if (done) MB_U64(HL_MB_STAT_IO_LOCAL)++;
  return done;
}
