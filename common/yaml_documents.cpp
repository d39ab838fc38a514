#include "common/yaml_documents.h"

#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "common/error.h"

namespace distill::config {
namespace {

// Counts events; past `limit` the parser is looping: stop it, remembering where.
class EventBudget : public YAML::EventHandler {
 public:
  explicit EventBudget(size_t limit) : limit_(limit) {}
  struct Exhausted {
    YAML::Mark mark;
  };

  void OnDocumentStart(const YAML::Mark& mark) override { spend(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { spend(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { spend(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    spend(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    spend(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    spend(mark);
  }
  void OnMapEnd() override {}

 private:
  void spend(const YAML::Mark& mark) {
    if (++events_ > limit_) throw Exhausted{mark};
  }
  size_t limit_;
  size_t events_ = 0;
};

[[noreturn]] void syntaxError(const std::string& source, const YAML::Mark& mark, const std::string& what) {
  DISTILL_FAIL(source, ":", mark.line + 1, ":", mark.column + 1, ": YAML syntax error: ", what);
}

}  // namespace

std::vector<YAML::Node> loadYamlDocuments(const std::string& text, const std::string& source_name) {
  // Every node but an implicit null takes at least one byte, and a byte
  // leaves at most a couple of implicit nulls beside it: 4 per byte is ample.
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    EventBudget budget(4 * text.size() + 16);
    while (parser.HandleNextDocument(budget)) {
    }
  } catch (const EventBudget::Exhausted& e) {
    syntaxError(source_name, e.mark,
                "the YAML parser does not finish on this input (a stray ',' or an unclosed bracket or brace?)");
  } catch (const YAML::ParserException& e) {
    syntaxError(source_name, e.mark, e.msg);
  }
  try {
    return YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    syntaxError(source_name, e.mark, e.msg);
  }
}

}  // namespace distill::config
