// cprog exercises wasi-libc: printf with floats, malloc/free, qsort, reading files and listing a
// directory from a preopen, and exit codes.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void floats(void) {
  double x = 1.0;
  for (int i = 1; i <= 5; i++) {
    x *= 1.5;
    printf("%d: %.6f %e %g sqrt=%.10f\n", i, x, x * 1e10, x / 3, sqrt(x));
  }
  printf("pi=%.15f float=%f neg=%+.3f\n", M_PI, (float)2.5f, -0.125);
}

static void memory(void) {
  enum { N = 1000 };
  int *a = malloc(N * sizeof *a);
  unsigned seed = 12345;
  for (int i = 0; i < N; i++) {
    seed = seed * 1103515245u + 12345u;
    a[i] = (int)(seed >> 8) % 100000;
  }
  qsort(a, N, sizeof *a, cmp_int);
  long sum = 0;
  for (int i = 0; i < N; i++) sum += a[i];
  printf("sorted min=%d max=%d median=%d sum=%ld\n", a[0], a[N - 1], a[N / 2], sum);
  free(a);
  void *blocks[64];
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < 64; i++) blocks[i] = malloc((size_t)(i * 37 + round) % 4096 + 1);
    for (int i = 0; i < 64; i++) free(blocks[i]);
  }
  char *big = malloc(8 << 20);
  memset(big, 7, 8 << 20);
  printf("big ok %d\n", big[(8 << 20) - 1]);
  free(big);
}

static void cat(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("open %s: %s\n", path, strerror(errno));
    return;
  }
  char line[256];
  int n = 0;
  while (fgets(line, sizeof line, f)) printf("%s:%d: %s", path, ++n, line);
  fseek(f, 0, SEEK_END);
  printf("%s: size %ld\n", path, ftell(f));
  fclose(f);
}

static void ls(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    printf("opendir %s: %s\n", path, strerror(errno));
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  for (int i = 0; i < n; i++) {
    struct stat st;
    char full[512];
    snprintf(full, sizeof full, "%s/%s", path, names[i]);
    if (stat(full, &st) == 0)
      printf("%s %s %lld\n", S_ISDIR(st.st_mode) ? "d" : "-", names[i], S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    free(names[i]);
  }
}

static void hostile(const char *dir) {
  char p[512];
  snprintf(p, sizeof p, "%s/../../etc/passwd", dir);
  int fd = open(p, O_RDONLY);
  printf("escape open: %s\n", fd < 0 ? "refused" : "OPENED");
  snprintf(p, sizeof p, "%s/newfile", dir);
  fd = open(p, O_CREAT | O_WRONLY, 0644);
  printf("create: %s\n", fd < 0 ? "refused" : "created");
}

static void writes(const char *dir) {
  char p[512], q[512];
  snprintf(p, sizeof p, "%s/c.txt", dir);
  FILE *f = fopen(p, "w");
  if (!f) {
    printf("fopen w: %s\n", strerror(errno));
    return;
  }
  for (int i = 0; i < 3; i++) fprintf(f, "line %d %.2f\n", i, i * 1.25);
  fclose(f);
  f = fopen(p, "a");
  fputs("appended\n", f);
  fclose(f);
  cat(p);
  int fd = open(p, O_RDWR);
  printf("pwrite=%zd ftruncate=%d\n", pwrite(fd, "LINE", 4, 0), ftruncate(fd, 12));
  close(fd);
  cat(p);
  snprintf(q, sizeof q, "%s/sub", dir);
  printf("mkdir=%d\n", mkdir(q, 0755));
  snprintf(q, sizeof q, "%s/sub/renamed.txt", dir);
  printf("rename=%d\n", rename(p, q));
  ls(dir);
  snprintf(p, sizeof p, "%s/sub", dir);
  printf("rmdir non-empty=%d\n", rmdir(p));
  printf("unlink=%d rmdir=%d\n", unlink(q), rmdir(p));
  ls(dir);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exit") == 0) {
    printf("exiting with %d\n", argc > 2 ? atoi(argv[2]) : 0);
    return argc > 2 ? atoi(argv[2]) : 0;
  }
  floats();
  memory();
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-ls") == 0 && i + 1 < argc) {
      ls(argv[++i]);
    } else if (strcmp(argv[i], "-write") == 0 && i + 1 < argc) {
      writes(argv[++i]);
    } else if (strcmp(argv[i], "-hostile") == 0 && i + 1 < argc) {
      hostile(argv[++i]);
    } else {
      cat(argv[i]);
    }
  }
  const char *v = getenv("GREETING");
  printf("GREETING=%s\n", v ? v : "(unset)");
  struct timespec ts = {0, 2000000};
  printf("nanosleep=%d\n", nanosleep(&ts, NULL));
  return 0;
}
