// JSON parsed strictly: a key given twice in one object is an error (the
// JSON library would keep the last silently, so a shard header or a manifest
// could say two things at once), as is anything that is not JSON. Used for
// the files this service writes and reads back: safetensors headers,
// dataset.json, state.json, trainer.json.
//
//   nlohmann::json j = parseJsonStrict(text, path);   // errors start with `where`
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill {

// distill::Error "<where>: not valid JSON: ..." or "<where>: key "k" is given twice in one object".
nlohmann::json parseJsonStrict(const char* begin, const char* end, const std::string& where);
nlohmann::json parseJsonStrict(const std::string& text, const std::string& where);

// Values read out of such a file with their type checked, where the JSON
// library would convert a float to an integer (or a double to a float) with
// undefined behaviour: distill::Error "<where>: expected ..., got <value>".
uint64_t unsignedOf(const nlohmann::json& v, const std::string& where);
std::vector<uint64_t> unsignedListOf(const nlohmann::json& v, const std::string& where);
std::vector<float> floatListOf(const nlohmann::json& v, const std::string& where);  // each within float's range

}  // namespace distill
