#include "k8s/base/resident_memory.h"

#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace k8s {
namespace {

// VmRSS, RssFile of /proc/self/status in bytes.
std::pair<size_t, size_t> resident() {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t rss = 0, file = 0;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stoul(line.substr(6)) * 1024;
    if (line.rfind("RssFile:", 0) == 0) file = std::stoul(line.substr(8)) * 1024;
  }
  return {rss, file};
}

struct page_range {
  uintptr_t begin, end;
};

// Runs with the dynamic loader's lock held: no object is loaded or unloaded meanwhile, so the
// ranges are still these objects' when they are dropped.
int drop_object(struct dl_phdr_info* info, size_t, void* data) {
  const uintptr_t page = *static_cast<const uintptr_t*>(data);
  const auto vdso = static_cast<uintptr_t>(getauxval(AT_SYSINFO_EHDR));
  const auto phdr = reinterpret_cast<uintptr_t>(info->dlpi_phdr);
  if (vdso != 0 && phdr >= vdso && phdr < vdso + 64 * 1024) return 0;  // the kernel's vDSO
  // Pages that hold anything written in memory stay: writable segments, RELRO (relocated, then
  // made read-only), and every segment of an object with text relocations.
  std::vector<page_range> keep, drop;
  auto pages = [&](uintptr_t vaddr, uintptr_t size) {
    uintptr_t b = info->dlpi_addr + vaddr, e = b + size;
    return page_range{b & ~(page - 1), (e + page - 1) & ~(page - 1)};
  };
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& p = info->dlpi_phdr[i];
    if (p.p_type == PT_DYNAMIC) {
      for (auto* d = reinterpret_cast<const ElfW(Dyn)*>(info->dlpi_addr + p.p_vaddr);
           d->d_tag != DT_NULL; ++d)
        if (d->d_tag == DT_TEXTREL || (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)))
          return 0;
    }
    if (p.p_type == PT_GNU_RELRO) keep.push_back(pages(p.p_vaddr, p.p_memsz));
    if (p.p_type != PT_LOAD) continue;
    if (p.p_flags & PF_W)
      keep.push_back(pages(p.p_vaddr, p.p_memsz));
    else
      drop.push_back(pages(p.p_vaddr, p.p_filesz));
  }
  for (page_range r : drop) {
    for (const page_range& k : keep) {  // never a page shared with one kept
      if (k.end <= r.begin || k.begin >= r.end) continue;
      if (k.begin <= r.begin)
        r.begin = k.end;
      else if (k.end >= r.end)
        r.end = k.begin;
      else
        r.end = r.begin;  // inside: leave the whole segment
    }
    if (r.end > r.begin) madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_DONTNEED);
  }
  return 0;
}

}  // namespace

released_memory release_unused_memory() {
  released_memory out;
  auto [rss0, file0] = resident();
  (void)rss0;
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  dl_iterate_phdr(drop_object, &page);
  auto [rss1, file1] = resident();
  out.code_bytes = file0 > file1 ? file0 - file1 : 0;
  malloc_trim(0);
  auto [rss2, file2] = resident();
  (void)file2;
  out.heap_bytes = rss1 > rss2 ? rss1 - rss2 : 0;
  return out;
}

size_t trim_heap() {
  const size_t before = resident().first;
  malloc_trim(0);
  const size_t after = resident().first;
  return before > after ? before - after : 0;
}

release_schedule::action release_schedule::on_tick(std::chrono::milliseconds cpu_so_far) {
  if (first_) {  // start-up is work
    first_ = false;
    work_since_release_ = cpu_so_far;
    last_ = cpu_so_far;
    return action::none;
  }
  const auto used = cpu_so_far - last_;
  last_ = cpu_so_far;
  if (used >= s_.quiet) {
    work_since_release_ += used;
    if (++busy_ticks_ < s_.busy_trim_ticks) return action::none;
    busy_ticks_ = 0;
    return action::trim_heap;
  }
  busy_ticks_ = 0;
  if (work_since_release_ < s_.work) return action::none;
  work_since_release_ = std::chrono::milliseconds(0);
  return action::release_all;
}

std::chrono::milliseconds process_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::milliseconds(static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
}

}  // namespace k8s
