#include "common/json_file.h"

#include "common/files.h"

namespace distill {

JsonFile::JsonFile(std::string path) : path_(std::move(path)) {
  try {
    json_ = nlohmann::json::parse(files::readFile(path_));
  } catch (const nlohmann::json::exception& e) {
    DISTILL_FAIL(path_, ": not valid JSON: ", e.what());
  }
}

}  // namespace distill
