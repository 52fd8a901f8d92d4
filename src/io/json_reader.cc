#include "io/json_reader.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "io/python_json_literals.h"

namespace kvplan::io {
namespace {

// Builds the ConfigNode tree from nlohmann's SAX events, tracking the path of each value.
class TreeBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  TreeBuilder(std::string file, std::vector<PythonLiteral> literals)
      : file_(std::move(file)), literals_(std::move(literals)) {}

  ConfigNode root;

  bool null() override { return add(ConfigNode::Null{}); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override {
    ++numbers_;
    return add(static_cast<std::int64_t>(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    ++numbers_;
    if (value > static_cast<number_unsigned_t>(INT64_MAX)) return add(static_cast<double>(value), std::to_string(value));
    return add(static_cast<std::int64_t>(value));
  }
  // A Python literal's stand-in is a float: the literal's value and spelling go in its place.
  bool number_float(number_float_t value, const string_t& text) override {
    if (next_literal_ < literals_.size() && literals_[next_literal_].number_index == numbers_++) {
      const PythonLiteral& literal = literals_[next_literal_++];
      return add(literal.value, std::string(literal.written));
    }
    return add(value, text);
  }
  bool string(string_t& value) override { return add(value); }
  bool binary(binary_t&) override { return add(ConfigNode::Null{}); }

  bool start_object(std::size_t) override {
    open(ConfigNode{ConfigNode::Map{}, where(), ""});
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& name) override {
    if (!keys_.back().insert(name).second) {
      throw Error(file_ + ": duplicate key '" + name + "' in " + (path_.empty() ? "the top level" : dotted()) +
                  "; each field may appear once");
    }
    pending_key_ = name;
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    close();
    return true;
  }
  bool start_array(std::size_t) override {
    open(ConfigNode{ConfigNode::List{}, where(), ""});
    return true;
  }
  bool end_array() override {
    close();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
    std::string message = error.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> keep the tail.
    std::size_t at = message.find("at line");
    throw Error(file_ + ": malformed JSON " + (at == std::string::npos ? message : message.substr(at)));
  }

 private:
  std::string dotted() const {
    std::string text;
    for (const std::string& part : path_) text += (text.empty() || part.front() == '[' ? "" : ".") + part;
    return text;
  }
  std::string where() const { return path_.empty() ? file_ : file_ + ": " + dotted(); }

  // Entering a container: its name (the key in a map, the index in a list) joins the path.
  void push_name() {
    if (stack_.size() < 2) return;
    const ConfigNode& parent = *stack_[stack_.size() - 2];
    if (const auto* list = parent.as_list()) {
      path_.push_back("[" + std::to_string(list->size() - 1) + "]");
    } else {
      path_.push_back(std::get<ConfigNode::Map>(parent.value).back().key);
    }
  }
  ConfigNode* attach(ConfigNode node) {
    if (stack_.empty()) {
      root = std::move(node);
      return &root;
    }
    ConfigNode& parent = *stack_.back();
    if (auto* list = std::get_if<ConfigNode::List>(&parent.value)) {
      list->push_back(std::move(node));
      return &list->back();
    }
    auto& map = std::get<ConfigNode::Map>(parent.value);
    map.push_back(ConfigEntry{pending_key_, std::move(node)});
    return &map.back().node;
  }
  // A node's `where` names the map or list holding it: messages name the field itself.
  template <typename Value>
  bool add(Value value, std::string written = "") {
    ConfigNode node{std::move(value), where(), ""};
    node.written = std::move(written);
    attach(std::move(node));
    return true;
  }
  void open(ConfigNode node) {
    if (stack_.size() >= kMaxConfigDepth) {
      throw Error(file_ + ": nested more than " + std::to_string(kMaxConfigDepth) + " levels deep at " + dotted() +
                  "; a config.json is a few levels deep");
    }
    node.where = where();
    stack_.push_back(attach(std::move(node)));
    push_name();
  }
  void close() {
    stack_.pop_back();
    if (!path_.empty()) path_.pop_back();
  }

  std::string file_;
  std::vector<ConfigNode*> stack_;  // open containers; children are appended to the last
  std::vector<std::string> path_;
  std::vector<std::set<std::string>> keys_;
  std::string pending_key_;
  std::vector<PythonLiteral> literals_;
  std::size_t next_literal_ = 0;
  std::size_t numbers_ = 0;  // number tokens seen so far
};

}  // namespace

ConfigNode read_json(std::string_view text, const std::string& file) {
  // The JSON parser stops at a NUL as if the text ended there; what follows would go unread.
  if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    throw Error(file + ": malformed JSON: a NUL byte at offset " + std::to_string(nul) + "; a JSON file is text");
  }
  LiteralFreeJson json = replace_python_literals(text);
  TreeBuilder builder(file, std::move(json.literals));
  bool ok = nlohmann::json::sax_parse(json.text, &builder);
  if (!ok) throw Error(file + ": malformed JSON");
  return std::move(builder.root);
}

std::string read_text_file(const std::string& path, std::string_view what) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (fs::is_directory(status)) {
    throw Error(std::string(what) + ": '" + path + "' is a directory; give the file itself");
  }
  // Opening a FIFO would block until a writer comes, and /dev/zero never ends: only regular files.
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    throw Error(std::string(what) + ": '" + path + "' is not a regular file (a pipe, device or socket); give a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(std::string(what) + ": cannot open '" + path + "'");
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= kMaxInputFileBytes && in.read(chunk, sizeof chunk).gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw Error(std::string(what) + ": cannot read '" + path + "'");
  if (text.size() > kMaxInputFileBytes) {
    throw Error(std::string(what) + ": '" + path + "' is larger than " + std::to_string(kMaxInputFileBytes >> 20) +
                " MiB, the most kvplan reads; configs and presets are a few KiB");
  }
  return text;
}

}  // namespace kvplan::io
