#include "common/json_file.h"

#include "common/files.h"
#include "common/json_strict.h"

namespace distill {

JsonFile::JsonFile(std::string path) : path_(std::move(path)) {
  json_ = parseJsonStrict(files::readFile(path_), path_);
}

}  // namespace distill
