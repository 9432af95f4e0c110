// Tables for people: how the client subcommands (alert list, incident list, timeline,
// suspects, notifications) lay out rows in a terminal. Pure functions, no I/O but TableWidth.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace houston::cli {

// Lays out `rows` under `headers` in columns two spaces apart. Cells are never cut: when the
// table is wider than `width` columns (terminal cells; 0 = unlimited), the widest columns are
// narrowed (never below their header or 8) and their cells wrap at spaces onto continuation
// lines aligned under the cell; a word longer than its column is split. A cell's own newlines
// start new lines too. Rows shorter than `headers` are padded with empty cells. Every line ends
// with '\n' and has no trailing spaces.
std::string FormatTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows, size_t width);

// The text of `text` wrapped into lines of at most `width` terminal cells (UTF-8 aware; 0 =
// unlimited), breaking at spaces where possible.
std::vector<std::string> WrapText(std::string_view text, size_t width);

// Terminal cells `text` takes (UTF-8 code points; every one counts as one cell).
size_t DisplayWidth(std::string_view text);

// The width tables are laid out for: $COLUMNS if set to a positive number, else the width of
// the terminal on stdout, else 0 (unlimited: output to a pipe or file is never wrapped).
size_t TableWidth();

// A number for people: plain decimal notation with at most `decimals` digits after the point,
// trailing zeros dropped (0.485 -> "0.49", 3.0 -> "3"), never an exponent.
std::string PlainNumber(double value, int decimals = 2);

}  // namespace houston::cli
