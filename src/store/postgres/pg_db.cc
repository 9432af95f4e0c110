#include "store/postgres/pg_db.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

namespace houston::store::postgres {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9') || c == '$'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Translation {
  std::string sql;
  int params = 0;  // the largest parameter number used
};

// TranslatePlaceholders, also counting the parameters.
Translation Translate(std::string_view sql) {
  Translation out;
  out.sql.reserve(sql.size() + 8);
  const size_t n = sql.size();
  size_t i = 0;
  // Copies sql[i, end) and moves on; `end` is clamped to the end of the text, so an unterminated
  // literal or comment is copied as is and the server reports it.
  auto copy_to = [&](size_t end) {
    end = std::min(end, n);
    out.sql.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < n) {
    const char c = sql[i];
    const char next = i + 1 < n ? sql[i + 1] : '\0';
    if (c == '\'') {
      // E'...' strings take backslash escapes; others only ''.
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !IsIdentifierChar(sql[i - 2]));
      size_t j = i + 1;
      while (j < n) {
        if (escapes && sql[j] == '\\') {
          j += 2;
        } else if (sql[j] == '\'') {
          if (j + 1 < n && sql[j + 1] == '\'') {
            j += 2;
          } else {
            break;
          }
        } else {
          ++j;
        }
      }
      copy_to(j + 1);
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < n) {
        if (sql[j] == '"') {
          if (j + 1 < n && sql[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      copy_to(j + 1);
    } else if (c == '-' && next == '-') {
      copy_to(sql.find('\n', i));
    } else if (c == '/' && next == '*') {
      // PostgreSQL's block comments nest.
      size_t j = i + 2;
      int depth = 1;
      while (j < n && depth > 0) {
        if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      copy_to(j);
    } else if (c == '$' && (i == 0 || !IsIdentifierChar(sql[i - 1])) &&
               (next == '$' || IsIdentifierStart(next))) {
      // A dollar-quoted string $tag$...$tag$ (but $1 is a parameter and a$b an identifier).
      size_t j = i + 1;
      while (j < n && IsIdentifierChar(sql[j]) && sql[j] != '$') ++j;
      if (j < n && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t close = sql.find(tag, j + 1);
        copy_to(close == std::string_view::npos ? n : close + tag.size());
      } else {
        copy_to(j);
      }
    } else if (c == '?') {
      size_t j = i + 1;
      while (j < n && IsDigit(sql[j])) ++j;
      int number = out.params + 1;
      if (j > i + 1) {
        auto [ptr, ec] = std::from_chars(sql.data() + i + 1, sql.data() + j, number);
        if (ec != std::errc()) {  // absurdly large: leave it for the server to reject
          copy_to(j);
          continue;
        }
      }
      out.params = std::max(out.params, number);
      out.sql += fmt::format("${}", number);
      i = j;
    } else {
      out.sql += c;
      ++i;
    }
  }
  return out;
}

// The first 80 bytes of `sql` for messages, not cutting a UTF-8 sequence.
std::string_view Abbreviated(std::string_view sql) {
  if (sql.size() <= 80) return sql;
  size_t end = 80;
  while (end > 0 && (static_cast<unsigned char>(sql[end]) & 0xC0) == 0x80) --end;
  return sql.substr(0, end);
}

// libpq's messages end in newlines and may span lines ("...failed: ...\n\tIs the server...").
std::string OneLine(std::string_view message) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Every spelling of a password `url` may carry: the value libpq parses out of it, and the raw
// text of a URI's user-info or of a password= setting (which is what a parse error would echo).
std::vector<std::string> PasswordsIn(const std::string& url) {
  std::vector<std::string> out;
  char* error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(url.c_str(), &error)) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val != nullptr && std::strcmp(o->keyword, "password") == 0) out.emplace_back(o->val);
    }
    PQconninfoFree(options);
  }
  if (error != nullptr) PQfreemem(error);
  std::string_view u = url;
  if (size_t scheme = u.find("://"); scheme != std::string_view::npos) {
    // libpq takes user-info up to the first '@' that comes before any '/'.
    std::string_view rest = u.substr(scheme + 3);
    size_t at = rest.find_first_of("@/");
    if (at != std::string_view::npos && rest[at] == '@') {
      std::string_view info = rest.substr(0, at);
      if (size_t colon = info.find(':'); colon != std::string_view::npos) {
        out.emplace_back(info.substr(colon + 1));
      }
    }
  }
  for (size_t p = u.find("password="); p != std::string_view::npos;
       p = u.find("password=", p + 1)) {
    std::string_view value = u.substr(p + 9);
    value = value.substr(0, value.find_first_of("& \t\n"));
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    out.emplace_back(value);
  }
  std::erase_if(out, [](const std::string& s) { return s.empty(); });
  // Longest first, so that a password containing another is replaced whole.
  std::ranges::sort(out,
                    [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

std::string Redacted(std::string message, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    for (size_t p = message.find(secret); p != std::string::npos; p = message.find(secret, p + 3)) {
      message.replace(p, secret.size(), "***");
    }
  }
  return message;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string text(url);
  return Redacted(text, PasswordsIn(text));
}

namespace {

// libpq prints notices and warnings (e.g. "there is no transaction in progress") to stderr by
// default; the server's log has them.
void IgnoreNotice(void*, const char*) {}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && ptr == text.data() + text.size()) return v;
  return std::nullopt;
}

double ParseDouble(std::string_view text) {
  if (text == "t") return 1;
  if (text == "f") return 0;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() ? v : 0;
}

}  // namespace

std::string TranslatePlaceholders(std::string_view sql) { return Translate(sql).sql; }

namespace internal {

// One libpq connection, its session count and its reconnection backoff. Thread-compatible.
class Connection {
 public:
  // `clock` times the reconnection backoff.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url, const Clock& clock) {
    // Keywords before "dbname" are defaults: the expanded URL overrides them.
    const char* keywords[] = {"fallback_application_name", "connect_timeout", "dbname", nullptr};
    const char* values[] = {"houston", "10", url.c_str(), nullptr};
    PGconn* raw = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (raw == nullptr) {
      return std::unexpected(Unavailable("cannot connect to PostgreSQL: out of memory"));
    }
    auto conn = std::unique_ptr<Connection>(new Connection(raw, PasswordsIn(url), clock));
    if (PQstatus(raw) != CONNECTION_OK) {
      return std::unexpected(Unavailable(fmt::format("cannot connect to PostgreSQL at {}: {}",
                                                     RedactUrl(url), conn->LibpqMessage())));
    }
    return conn;
  }

  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* get() const { return conn_; }
  // Whether the connection is believed usable (a failure may not have marked it bad yet).
  bool ok() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }
  // Counts the server sessions: starts at 1 and grows with each reconnection.
  uint64_t session() const { return session_; }
  int64_t changes() const { return changes_; }
  int64_t total_changes() const { return total_changes_; }
  std::string TakeStorageFault() { return std::exchange(storage_fault_, {}); }
  // When EnsureConnected() may next try to reconnect (the past if it may now).
  SteadyPoint next_attempt() const { return next_attempt_; }
  const Clock& clock() const { return clock_; }

  // OK if connected, reconnecting first if the connection is broken and the backoff allows an
  // attempt; Unavailable otherwise.
  Status EnsureConnected() {
    if (ok()) return OkStatus();
    if (clock_.SteadyNow() < next_attempt_) {
      return Unavailable(fmt::format("PostgreSQL is unreachable: {}", last_error_));
    }
    queued_.clear();  // lost with the old session
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) {
      if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) (void)PQexitPipelineMode(conn_);
      broken_ = false;
      ++session_;
      backoff_ = kFirstBackoff;
      next_attempt_ = {};
      return OkStatus();
    }
    last_error_ = LibpqMessage();
    next_attempt_ = clock_.SteadyNow() + backoff_;
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    return Unavailable(fmt::format("PostgreSQL is unreachable: {}", last_error_));
  }

  // Runs `sql` without parameters; errors say "<what> for: <sql>". Queued statements are
  // completed first; if one of them failed, `sql` still runs and that error is returned.
  Status Exec(std::string_view sql, std::string_view what) {
    Status queued = Flush();
    if (!ok()) return queued;
    std::string text(sql);
    ResultPtr result(PQexec(conn_, text.c_str()));
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
      Record(result.get());
      return queued;
    }
    Status st = Error(result.get(), fmt::format("{} for: {}", what, Abbreviated(sql)));
    return queued.ok() ? st : queued;
  }

  // Pipelining. Queue() sends a statement without waiting for its result (libpq's pipeline
  // mode); the next statement that needs an answer goes in the same round trip, after it
  // (RunAfterQueued), and Flush() reads what is queued. A queued statement counts as a change
  // (TotalChanges) when it is sent.
  bool queued() const { return !queued_.empty(); }

  // `send` is a PQsend* call for one statement, `sql` its text for messages.
  template <typename Send>
  Status Queue(Send send, std::string_view sql) {
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1) {
      return Error(nullptr, fmt::format("queue failed for: {}", Abbreviated(sql)));
    }
    if (send() != 1) {
      broken_ = true;  // a send fails only when the connection does
      return Error(nullptr, fmt::format("queue failed for: {}", Abbreviated(sql)));
    }
    queued_.emplace_back(sql);
    ++total_changes_;
    return OkStatus();
  }

  // Reads the results of the queued statements (one round trip): the first error among them.
  Status Flush() {
    if (queued_.empty()) return OkStatus();
    return Sync(nullptr);
  }

  // Sends one more statement behind the queued ones (`send`, as for Queue), ends the pipeline
  // and returns that statement's result. A statement behind a failed one does not run on the
  // server (the pipeline is aborted up to the sync); it is then run again on its own by
  // `rerun` (a blocking PQexec* call), so that it runs in every case, e.g. a ROLLBACK. The error
  // of a failed queued statement is returned in preference to the statement's own result.
  template <typename Send, typename Rerun>
  Result<ResultPtr> RunAfterQueued(Send send, Rerun rerun, std::string_view sql) {
    if (send() != 1) {
      broken_ = true;
      queued_.clear();
      return std::unexpected(Error(nullptr, fmt::format("step failed for: {}", Abbreviated(sql))));
    }
    ResultPtr own;
    Status queued = Sync(&own);
    if (!ok()) return std::unexpected(queued);
    if (own && PQresultStatus(own.get()) == PGRES_PIPELINE_ABORTED) own.reset(rerun());
    if (!queued.ok()) return std::unexpected(queued);
    return own;
  }

  // Notes the rows changed by a successful command.
  void Record(const PGresult* result) {
    std::string_view command = PQcmdStatus(const_cast<PGresult*>(result));
    for (std::string_view write : {"INSERT ", "UPDATE ", "DELETE ", "MERGE "}) {
      if (command.starts_with(write)) {
        changes_ = ParseInt(PQcmdTuples(const_cast<PGresult*>(result))).value_or(0);
        total_changes_ += changes_;
        return;
      }
    }
  }

  // The one mapping from a failed libpq call (`result` may be null) to a Status; `what` says
  // what failed. An error without SQLSTATE comes from libpq, not the server: the connection is
  // in trouble (libpq does not always mark it bad at once, e.g. when a write found the server
  // gone), so it is treated as lost and re-established by the next call.
  Status Error(const PGresult* result, std::string_view what) {
    std::string sqlstate;
    std::string message;
    if (result != nullptr) {
      if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = s;
      const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
      message = OneLine(primary != nullptr ? primary : PQresultErrorMessage(result));
    }
    if (message.empty()) message = LibpqMessage();
    if (message.empty()) message = "unknown error";
    message = Redacted(std::move(message), passwords_);
    const std::string code = sqlstate.empty() ? "" : fmt::format(" (SQLSTATE {})", sqlstate);
    // Class 08: connection exception; 57P01-57P03: the server is shutting down or starting.
    if (sqlstate.empty() || sqlstate.starts_with("08") || sqlstate == "57P01" ||
        sqlstate == "57P02" || sqlstate == "57P03") {
      broken_ = true;
    }
    if (!ok()) {
      return Unavailable(
          fmt::format("{}: connection to PostgreSQL lost: {}{}", what, message, code));
    }
    // 53100 disk_full, 58030 io_error: the server cannot store writes now.
    if (sqlstate == "53100" || sqlstate == "58030") {
      storage_fault_ = fmt::format("{}{}", message, code);
    }
    if (sqlstate.starts_with("23")) {
      return AlreadyExists(fmt::format("{}: {}{}", what, message, code));
    }
    if (sqlstate == "40001" || sqlstate == "40P01") {
      return Unavailable(fmt::format("{}: {}{}; retry", what, message, code));
    }
    return Internal(fmt::format("{}: {}{}", what, message, code));
  }

 private:
  Connection(PGconn* conn, std::vector<std::string> passwords, const Clock& clock)
      : conn_(conn), passwords_(std::move(passwords)), clock_(clock) {
    PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  }

  std::string LibpqMessage() const {
    std::vector<std::string> secrets = passwords_;
    if (const char* pass = PQpass(conn_); pass != nullptr && *pass != '\0') {
      secrets.insert(secrets.begin(), pass);
    }
    return Redacted(OneLine(PQerrorMessage(conn_)), secrets);
  }

  // Ends the pipeline: sends a sync, reads each queued statement's result (and, if `own` is
  // given, one more into it), and leaves pipeline mode. Returns the first error of a queued
  // statement; stops reading (the connection is then broken) if the server goes away.
  Status Sync(ResultPtr* own) {
    std::vector<std::string> queued = std::move(queued_);
    queued_.clear();
    if (PQpipelineSync(conn_) != 1) {
      broken_ = true;
      return Error(nullptr, "sync failed");
    }
    Status first;
    // One result per statement, then a null that ends it.
    auto next = [&](std::string_view sql) -> std::optional<ResultPtr> {
      ResultPtr r(PQgetResult(conn_));
      if (!r) {
        broken_ = true;
        Status st = Error(nullptr, fmt::format("step failed for: {}", Abbreviated(sql)));
        if (first.ok()) first = st;
        return std::nullopt;
      }
      ResultPtr end(PQgetResult(conn_));
      return r;
    };
    for (const std::string& sql : queued) {
      auto r = next(sql);
      if (!r) return first;
      ExecStatusType status = PQresultStatus(r->get());
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
          status == PGRES_PIPELINE_ABORTED) {
        continue;
      }
      Status st = Error(r->get(), fmt::format("step failed for: {}", Abbreviated(sql)));
      if (first.ok()) first = st;
      if (!ok()) return first;
    }
    if (own != nullptr) {
      auto r = next("the statement after them");
      if (!r) return first;
      *own = std::move(*r);
    }
    ResultPtr sync(PQgetResult(conn_));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC ||
        PQexitPipelineMode(conn_) != 1) {
      broken_ = true;
      Status st = Error(sync.get(), "sync failed");
      if (first.ok()) first = st;
    }
    return first;
  }

  PGconn* conn_;
  const std::vector<std::string> passwords_;
  const Clock& clock_;
  std::vector<std::string> queued_;  // SQL of the statements queued, oldest first
  bool broken_ = false;              // set on a client-side failure; PQreset clears it
  uint64_t session_ = 1;
  int64_t changes_ = 0;
  int64_t total_changes_ = 0;
  SteadyPoint next_attempt_{};
  std::chrono::milliseconds backoff_ = kFirstBackoff;
  std::string last_error_;
  std::string storage_fault_;  // see sql::Db::TakeStorageFault
};

// A server-side prepared statement and the result of its last execution. Thread-compatible.
class PgStmt final : public sql::Stmt {
 public:
  PgStmt(Connection* conn, std::string sql, Translation translation, std::string name)
      : conn_(conn),
        sql_(std::move(sql)),
        translated_(std::move(translation.sql)),
        name_(std::move(name)),
        values_(translation.params) {}

  bool prepared() const { return session_ == conn_->session(); }

  // Prepares the statement on the connection's current session (after completing what is
  // queued: preparing is a round trip of its own).
  Status PrepareOnServer() {
    HOUSTON_RETURN_IF_ERROR(conn_->Flush());
    ResultPtr result(PQprepare(conn_->get(), name_.c_str(), translated_.c_str(), 0, nullptr));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return conn_->Error(result.get(), fmt::format("prepare failed for: {}", Abbreviated(sql_)));
    }
    session_ = conn_->session();
    return OkStatus();
  }

  Stmt& Bind(int i, int64_t v) override { return Set(i, fmt::format("{}", v)); }
  Stmt& Bind(int i, double v) override {
    if (std::isnan(v)) return Set(i, "NaN");
    if (std::isinf(v)) return Set(i, v > 0 ? "Infinity" : "-Infinity");
    return Set(i, fmt::format("{}", v));  // shortest text that reads back as the same double
  }
  Stmt& Bind(int i, std::string_view v) override { return Set(i, std::string(v)); }
  Stmt& BindNull(int i) override {
    Slot(i).reset();
    return *this;
  }

  Result<bool> Step() override {
    if (executed_) {
      if (row_ < rows_) ++row_;
      return row_ < rows_;
    }
    HOUSTON_RETURN_IF_ERROR(Runnable());
    std::vector<const char*> values = Values();
    auto exec = [&] {
      return PQexecPrepared(conn_->get(), name_.c_str(), static_cast<int>(values.size()),
                            values.data(), nullptr, nullptr, /*resultFormat=*/0);
    };
    ResultPtr result;
    if (conn_->queued()) {
      HOUSTON_ASSIGN_OR_RETURN(result,
                               conn_->RunAfterQueued([&] { return Send(values); }, exec, sql_));
    } else {
      result.reset(exec());
    }
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return std::unexpected(
          conn_->Error(result.get(), fmt::format("step failed for: {}", Abbreviated(sql_))));
    }
    conn_->Record(result.get());
    result_ = std::move(result);
    rows_ = PQntuples(result_.get());
    row_ = 0;
    executed_ = true;
    return row_ < rows_;
  }

  Status RunLater() override {
    HOUSTON_RETURN_IF_ERROR(Runnable());
    std::vector<const char*> values = Values();
    HOUSTON_RETURN_IF_ERROR(conn_->Queue([&] { return Send(values); }, sql_));
    executed_ = true;  // no rows
    return OkStatus();
  }

  void Reset() override {
    result_.reset();
    executed_ = false;
    row_ = rows_ = 0;
    for (auto& v : values_) v.reset();
  }

  int64_t Int(int col) const override {
    std::string_view text = Value(col);
    if (text == "t") return 1;
    if (text == "f") return 0;
    if (std::optional<int64_t> v = ParseInt(text)) return *v;
    // numeric results such as avg() or sum() of a bigint: truncate like SQLite.
    double d = ParseDouble(text);
    return std::isfinite(d) ? static_cast<int64_t>(d) : 0;
  }
  double Double(int col) const override { return ParseDouble(Value(col)); }
  bool IsNull(int col) const override {
    return !HasRow() || PQgetisnull(result_.get(), row_, col) != 0;
  }
  std::string Text(int col) const override { return std::string(Value(col)); }

 private:
  bool HasRow() const { return result_ && row_ < rows_; }

  // OK if the statement can be sent now.
  Status Runnable() const {
    if (!conn_->ok()) {
      return conn_->Error(nullptr, fmt::format("step failed for: {}", Abbreviated(sql_)));
    }
    if (!prepared()) {
      return Unavailable(fmt::format(
          "step failed for: {}: the connection to PostgreSQL was re-established since the "
          "statement was prepared; prepare it again",
          Abbreviated(sql_)));
    }
    return OkStatus();
  }

  // The parameters as libpq takes them (pointers into values_).
  std::vector<const char*> Values() const {
    std::vector<const char*> values(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
      values[i] = values_[i] ? values_[i]->c_str() : nullptr;
    }
    return values;
  }

  // Sends the statement in pipeline mode (libpq copies the parameters).
  int Send(const std::vector<const char*>& values) const {
    return PQsendQueryPrepared(conn_->get(), name_.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, /*resultFormat=*/0);
  }

  // The text of column `col` of the current row; empty for NULL or no row.
  std::string_view Value(int col) const {
    if (!HasRow() || col < 0 || col >= PQnfields(result_.get())) return {};
    const char* v = PQgetvalue(result_.get(), row_, col);
    return v == nullptr ? std::string_view()
                        : std::string_view(v, PQgetlength(result_.get(), row_, col));
  }

  std::optional<std::string>& Slot(int i) {
    HOUSTON_CHECK(i >= 1);
    if (static_cast<size_t>(i) > values_.size()) values_.resize(i);
    return values_[i - 1];
  }
  Stmt& Set(int i, std::string text) {
    Slot(i) = std::move(text);
    return *this;
  }

  Connection* conn_;
  const std::string sql_;         // as given, for messages
  const std::string translated_;  // with $N placeholders
  const std::string name_;
  uint64_t session_ = 0;  // the connection session it is prepared on (0: none)
  std::vector<std::optional<std::string>> values_;  // parameter texts; nullopt is NULL
  ResultPtr result_;
  bool executed_ = false;
  int row_ = 0;
  int rows_ = 0;
};

}  // namespace internal

PgDb::PgDb(std::unique_ptr<internal::Connection> conn) : conn_(std::move(conn)) {}
PgDb::~PgDb() = default;

Result<std::unique_ptr<PgDb>> PgDb::Connect(const std::string& url, const Clock& clock) {
  HOUSTON_ASSIGN_OR_RETURN(std::unique_ptr<internal::Connection> conn,
                           internal::Connection::Open(url, clock));
  return std::unique_ptr<PgDb>(new PgDb(std::move(conn)));
}

Status PgDb::Exec(std::string_view sql) {
  HOUSTON_RETURN_STATUS_IF_ERROR(conn_->EnsureConnected());
  return conn_->Exec(sql, "exec failed");
}

Result<sql::Stmt*> PgDb::Prepare(std::string_view sql) {
  HOUSTON_RETURN_IF_ERROR(conn_->EnsureConnected());
  if (auto it = cache_.find(sql); it != cache_.end()) {
    internal::PgStmt* stmt = it->second.get();
    stmt->Reset();
    if (!stmt->prepared()) HOUSTON_RETURN_IF_ERROR(stmt->PrepareOnServer());
    return stmt;
  }
  auto stmt = std::make_unique<internal::PgStmt>(conn_.get(), std::string(sql), Translate(sql),
                                                 fmt::format("s{}", ++statements_named_));
  HOUSTON_RETURN_IF_ERROR(stmt->PrepareOnServer());
  return cache_.emplace(std::string(sql), std::move(stmt)).first->second.get();
}

Status PgDb::Flush() { return conn_->Flush(); }

int64_t PgDb::Changes() const { return conn_->changes(); }
int64_t PgDb::TotalChanges() const { return conn_->total_changes(); }

std::string_view PgDb::Sql(sql::Fragment f) const {
  switch (f) {
    case sql::Fragment::kBeginWrite:
      return "BEGIN";
    case sql::Fragment::kForUpdateSkip:
      return " FOR UPDATE SKIP LOCKED";
    case sql::Fragment::kForUpdate:
      return " FOR UPDATE";
    // A session-level advisory lock: the server releases it should the session end first.
    // The key is "houston\0" in ASCII.
    case sql::Fragment::kLockMigrations:
      return "SELECT pg_advisory_lock(7525493316735298560)";
    case sql::Fragment::kUnlockMigrations:
      return "SELECT pg_advisory_unlock(7525493316735298560)";
  }
  HOUSTON_CHECK(false && "unknown sql::Fragment");
  return "";
}

bool PgDb::Healthy() const { return conn_->ok(); }

std::string PgDb::TakeStorageFault() { return conn_->TakeStorageFault(); }

Status PgDb::Ping() { return Exec("SELECT 1"); }

PgListener::PgListener(std::unique_ptr<internal::Connection> conn, std::string channel)
    : conn_(std::move(conn)), channel_(std::move(channel)) {}
PgListener::~PgListener() = default;

Result<std::unique_ptr<PgListener>> PgListener::Open(const std::string& url, std::string channel) {
  // It blocks in poll() on real time, so its backoff is timed on the real clock too.
  HOUSTON_ASSIGN_OR_RETURN(std::unique_ptr<internal::Connection> conn,
                           internal::Connection::Open(url, RealClock()));
  auto listener = std::unique_ptr<PgListener>(new PgListener(std::move(conn), std::move(channel)));
  HOUSTON_RETURN_IF_ERROR(listener->Listen());
  return listener;
}

Status PgListener::Listen() {
  char* quoted = PQescapeIdentifier(conn_->get(), channel_.data(), channel_.size());
  if (quoted == nullptr) {
    return InvalidArgument(fmt::format("channel {:?} is not valid text", channel_));
  }
  std::string sql = fmt::format("LISTEN {}", quoted);
  PQfreemem(quoted);
  HOUSTON_RETURN_STATUS_IF_ERROR(conn_->Exec(sql, "LISTEN failed"));
  listening_session_ = conn_->session();
  return OkStatus();
}

Result<std::vector<std::string>> PgListener::Wait(std::chrono::milliseconds timeout) {
  const Clock& clock = conn_->clock();
  const SteadyPoint deadline = clock.SteadyNow() + timeout;
  if (!conn_->ok() && conn_->next_attempt() > clock.SteadyNow()) {
    // Down, and too early to try again: wait (as callers expect Wait to) rather than fail at
    // once, so that a loop around Wait does not spin while the server is away.
    std::this_thread::sleep_until(std::min(conn_->next_attempt(), deadline));
  }
  HOUSTON_RETURN_IF_ERROR(conn_->EnsureConnected());
  if (listening_session_ != conn_->session()) HOUSTON_RETURN_IF_ERROR(Listen());
  std::vector<std::string> payloads;
  for (;;) {
    const bool read = PQconsumeInput(conn_->get()) != 0;
    while (PGnotify* n = PQnotifies(conn_->get())) {
      payloads.emplace_back(n->extra != nullptr ? n->extra : "");
      PQfreemem(n);
    }
    // What arrived before a failure is delivered; the next call reports the failure.
    if (!payloads.empty()) return payloads;
    if (!read || !conn_->ok()) {
      return std::unexpected(conn_->Error(nullptr, "waiting for notifications failed"));
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock.SteadyNow());
    if (left.count() <= 0) return payloads;
    pollfd fd{.fd = PQsocket(conn_->get()), .events = POLLIN, .revents = 0};
    const int rc = poll(&fd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (rc < 0 && errno != EINTR) {
      return std::unexpected(Internal(
          fmt::format("waiting for notifications failed: poll: {}", std::strerror(errno))));
    }
  }
}

Status Notify(PgDb& db, std::string_view channel, std::string_view payload) {
  HOUSTON_ASSIGN_OR_RETURN(sql::Stmt * stmt, db.Prepare("SELECT pg_notify(?, ?)"));
  stmt->Bind(1, channel).Bind(2, payload);
  return stmt->Run();
}

}  // namespace houston::store::postgres
