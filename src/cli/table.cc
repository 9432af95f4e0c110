#include "cli/table.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace houston::cli {
namespace {

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The byte length of the longest prefix of `text` that takes at most `cells` cells.
size_t PrefixBytes(std::string_view text, size_t cells) {
  size_t i = 0, used = 0;
  while (i < text.size()) {
    if (!IsContinuation(text[i])) {
      if (used == cells) break;
      ++used;
    }
    ++i;
  }
  return i;
}

// Wraps one line (no '\n') into `out`.
void WrapLine(std::string_view line, size_t width, std::vector<std::string>& out) {
  std::string current;
  size_t current_width = 0;
  auto flush = [&] {
    out.push_back(std::move(current));
    current.clear();
    current_width = 0;
  };
  size_t i = 0;
  while (i < line.size()) {
    size_t end = line.find(' ', i);
    if (end == std::string_view::npos) end = line.size();
    std::string_view word = line.substr(i, end - i);
    i = end + 1;
    if (word.empty()) continue;  // runs of spaces collapse where lines break
    size_t w = DisplayWidth(word);
    if (current_width > 0 && current_width + 1 + w <= width) {
      current += ' ';
      current += word;
      current_width += 1 + w;
      continue;
    }
    if (current_width > 0) flush();
    while (w > width) {  // a word longer than the column: split it
      size_t bytes = PrefixBytes(word, width);
      out.emplace_back(word.substr(0, bytes));
      word.remove_prefix(bytes);
      w = DisplayWidth(word);
    }
    current = std::string(word);
    current_width = w;
  }
  if (current_width > 0 || out.empty()) flush();
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += IsContinuation(c) ? 0 : 1;
  return n;
}

std::vector<std::string> WrapText(std::string_view text, size_t width) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (width == 0 || DisplayWidth(line) <= width) {
      out.emplace_back(line);
    } else {
      WrapLine(line, width, out);
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string FormatTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows, size_t width) {
  const size_t n = headers.size();
  constexpr size_t kGap = 2;
  std::vector<size_t> natural(n), floor(n);
  for (size_t c = 0; c < n; ++c) natural[c] = DisplayWidth(headers[c]);
  for (const auto& r : rows) {
    for (size_t c = 0; c < n && c < r.size(); ++c) {
      for (const auto& line : WrapText(r[c], 0)) {
        natural[c] = std::max(natural[c], DisplayWidth(line));
      }
    }
  }
  std::vector<size_t> col = natural;
  if (width > 0 && n > 0) {
    for (size_t c = 0; c < n; ++c) {
      floor[c] = std::min(natural[c], std::max<size_t>(DisplayWidth(headers[c]), 8));
    }
    size_t total = kGap * (n - 1);
    for (size_t w : col) total += w;
    // Narrow the widest column that can still give, one cell at a time, until the table fits.
    while (total > width) {
      size_t widest = n;
      for (size_t c = 0; c < n; ++c) {
        if (col[c] > floor[c] && (widest == n || col[c] > col[widest])) widest = c;
      }
      if (widest == n) break;  // every column at its floor: let the terminal wrap
      --col[widest];
      --total;
    }
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> lines(n);
    size_t height = 1;
    for (size_t c = 0; c < n; ++c) {
      lines[c] = WrapText(c < cells.size() ? cells[c] : std::string(), width > 0 ? col[c] : 0);
      height = std::max(height, lines[c].size());
    }
    for (size_t l = 0; l < height; ++l) {
      std::string line;
      size_t pending = 0;  // spaces owed before the next non-empty cell
      for (size_t c = 0; c < n; ++c) {
        const std::string& text = l < lines[c].size() ? lines[c][l] : std::string();
        if (!text.empty()) {
          line.append(pending, ' ');
          line += text;
          pending = 0;
        }
        if (c + 1 < n) pending += col[c] - std::min(col[c], DisplayWidth(text)) + kGap;
      }
      out += line;
      out += '\n';
    }
  };
  emit(headers);
  for (const auto& r : rows) emit(r);
  return out;
}

size_t TableWidth() {
  if (const char* env = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return static_cast<size_t>(v);
  }
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return 0;
}

std::string PlainNumber(double value, int decimals) {
  if (!std::isfinite(value)) return fmt::format("{}", value);
  std::string s = fmt::format("{:.{}f}", value, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

}  // namespace houston::cli
