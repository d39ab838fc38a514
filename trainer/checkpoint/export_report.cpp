#include "trainer/checkpoint/export_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace distill::checkpoint {
namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

double ratio(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

// Zeros over entries; 0 for no entries.
double sparsity(int64_t nonzero, int64_t n) { return ratio(static_cast<double>(n - nonzero), static_cast<double>(n)); }

// ---- reading a report, tolerant of older reports -------------------------------

std::string text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return "-";
  const auto& v = j.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::string shapeText(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j.at(key).is_array()) return "-";
  const auto& dims = j.at(key);
  if (dims.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? "x" : "") + dims[i].dump();
  return out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string number(const nlohmann::json& j, const char* key, int decimals) {
  if (!j.contains(key) || !j.at(key).is_number()) return "-";
  return fixed(j.at(key).get<double>(), decimals);
}

// Up to `shown` indices, then "... (n)".
std::string indexList(const nlohmann::json& removed, size_t shown = 8) {
  std::string out;
  for (size_t i = 0; i < removed.size() && i < shown; ++i) out += (i ? ", " : "") + removed[i].dump();
  if (removed.size() > shown) out += ", ... (" + std::to_string(removed.size()) + ")";
  return out.empty() ? "none" : out;
}

// Rows of cells, each column padded to its widest cell; the last column is not padded.
std::string alignedTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
  return out.str();
}

}  // namespace

SparsitySettings sparsitySettings(const nlohmann::json& trainer_state) {
  SparsitySettings s;
  if (!trainer_state.contains("sparsity_spec") || !trainer_state.at("sparsity_spec").is_object()) return s;
  const auto& spec = trainer_state.at("sparsity_spec");
  auto read = [&spec](const char* key, std::string& into) {
    if (spec.contains(key) && spec.at(key).is_string() && !spec.at(key).get<std::string>().empty())
      into = spec.at(key).get<std::string>();
  };
  read("criterion", s.criterion);
  read("granularity", s.granularity);
  read("scope", s.scope);
  return s;
}

bool follows2of4(const at::Tensor& weight) {
  if (weight.dim() != 2 || weight.size(1) % 4 != 0 || weight.numel() == 0) return false;
  return weight.ne(0).reshape({weight.size(0), weight.size(1) / 4, 4}).sum(-1).le(2).all().item<bool>();
}

nlohmann::json sparsityReport(const std::string& checkpoint, uint64_t step, const SparsitySettings& settings,
                              const std::vector<ParameterSparsity>& params, const StructuredRemoval& removal) {
  nlohmann::json entries = nlohmann::json::array();
  int64_t total = 0, total_nonzero = 0, masked = 0, masked_nonzero = 0, exported = 0;
  for (const ParameterSparsity& p : params) {
    const int64_t n = numel(p.shape);
    const int64_t original = numel(p.original_shape);
    const int64_t nonzero = n - p.zeros;  // removal drops only zeros, so this is the checkpoint's count too
    total += original;
    total_nonzero += nonzero;
    exported += n;
    if (p.masked) {
      masked += original;
      masked_nonzero += nonzero;
    }
    entries.push_back({{"name", p.name},
                       {"shape", p.shape},
                       {"original_shape", p.original_shape},
                       {"numel", n},
                       {"original_numel", original},
                       {"zeros", p.zeros},
                       {"density", ratio(static_cast<double>(nonzero), static_cast<double>(original))},
                       {"masked", p.masked},
                       {"granularity", p.masked ? settings.granularity : "dense"},
                       {"criterion", p.masked ? settings.criterion : "none"},
                       {"pattern_2_4", p.pattern_2_4}});
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const RemovedUnits& g : removal.groups) {
    groups.push_back({{"group", g.group},
                      {"kind", g.kind},
                      {"before", g.before},
                      {"after", g.before - static_cast<int64_t>(g.removed.size())},
                      {"removed", g.removed}});
  }
  nlohmann::json structured = {{"applied", removal.applied}};
  if (removal.applied) {
    structured["parameters_before"] = removal.parameters_before;
    structured["parameters_after"] = removal.parameters_after;
    structured["removed_parameters"] = removal.parameters_before - removal.parameters_after;
    structured["groups"] = groups;
  } else {
    structured["note"] = removal.note;
  }
  return {
      {"checkpoint", checkpoint},
      {"step", step},
      {"criterion", settings.criterion},
      {"granularity", settings.granularity},
      {"scope", settings.scope},
      {"total_parameters", total},
      {"total_zeros", total - total_nonzero},
      {"total_sparsity", sparsity(total_nonzero, total)},
      {"masked_parameters", masked},
      {"masked_sparsity", sparsity(masked_nonzero, masked)},
      {"exported_parameters", exported},
      {"structured_removal", structured},
      {"parameters", entries},
  };
}

std::string formatSparsityReport(const nlohmann::json& report, const std::string& source) {
  DISTILL_CHECK(report.is_object() && report.contains("parameters") && report.at("parameters").is_array(), source,
                ": not a sparsity report (no \"parameters\" list)");
  const auto& params = report.at("parameters");
  bool reshaped = false;
  for (const auto& p : params) {
    if (p.contains("original_shape") && p.contains("shape") && p.at("original_shape") != p.at("shape")) reshaped = true;
  }

  std::ostringstream out;
  out << "sparsity report " << source << ": checkpoint " << text(report, "checkpoint") << ", step "
      << text(report, "step") << "\n\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"parameter", "shape"});
  if (reshaped) rows.back().push_back("original");
  rows.back().insert(rows.back().end(), {"density", "granularity", "criterion"});
  for (const auto& p : params) {
    std::vector<std::string> row{text(p, "name"), shapeText(p, "shape")};
    if (reshaped) row.push_back(shapeText(p, "original_shape"));
    row.insert(row.end(), {number(p, "density", 4), text(p, "granularity"), text(p, "criterion")});
    rows.push_back(row);
  }
  out << alignedTable(rows) << "\n";

  std::vector<std::vector<std::string>> totals;
  totals.push_back({"total", text(report, "total_parameters") + " parameters",
                    "sparsity " + number(report, "total_sparsity", 4)});
  totals.push_back({"masked", text(report, "masked_parameters") + " parameters",
                    "sparsity " + number(report, "masked_sparsity", 4)});
  totals.push_back({"pruning", "criterion " + text(report, "criterion"),
                    "granularity " + text(report, "granularity") + ", scope " + text(report, "scope")});
  const nlohmann::json structured = report.value("structured_removal", nlohmann::json::object());
  if (structured.value("applied", false)) {
    totals.push_back({"removed", text(structured, "parameters_before") + " -> " +
                                     text(structured, "parameters_after") + " parameters",
                      text(structured, "removed_parameters") + " fewer"});
    for (const auto& g : structured.value("groups", nlohmann::json::array())) {
      totals.push_back({"  " + text(g, "group"), text(g, "before") + " -> " + text(g, "after") + " " + text(g, "kind"),
                        "removed " + indexList(g.value("removed", nlohmann::json::array()))});
    }
  } else if (structured.contains("note")) {
    totals.push_back({"removed", "nothing", text(structured, "note")});
  }
  out << alignedTable(totals);
  return out.str();
}

}  // namespace distill::checkpoint
