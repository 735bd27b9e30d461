// The files `dpbench p2p --out` and `dpbench info --out` write validate against the results schema
// (scripts/dpbench_report/schema/dpbench-results.schema.json, path from DPBENCH_SCHEMA_PATH), and
// bad values give one error line, a non-zero exit and no file. Runs the real binary on the cpu
// backend. The validator below implements the JSON-Schema keywords the schema uses (type, required,
// properties, additionalProperties, items, enum, const, minimum, minLength, allOf, if/then/else,
// $ref to #/$defs/...); it fails loudly on any keyword it does not know, so a schema change cannot
// silently weaken these tests.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace dpb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class SchemaValidator {
 public:
  explicit SchemaValidator(json schema) : root_(std::move(schema)) {}

  // Appends "path: problem" lines for every violation.
  void validate(const json& value, const json& schema, const std::string& path, std::vector<std::string>& errors) const {
    static const std::set<std::string> known = {"$schema", "$id", "title", "description", "type", "required",
                                                "properties", "additionalProperties", "items", "enum", "const",
                                                "minimum", "minLength", "allOf", "if", "then", "else", "$ref",
                                                "$defs"};
    for (const auto& [key, unused] : schema.items()) {
      if (!known.count(key)) errors.push_back(path + ": schema keyword '" + key + "' is not supported by this validator");
    }
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      const std::string prefix = "#/$defs/";
      if (ref.rfind(prefix, 0) != 0) {
        errors.push_back(path + ": unsupported $ref " + ref);
        return;
      }
      validate(value, root_.at("$defs").at(ref.substr(prefix.size())), path, errors);
    }
    if (schema.contains("type") && !type_matches(value, schema["type"])) {
      errors.push_back(path + ": type " + std::string(value.type_name()) + " is not " + schema["type"].dump());
      return;
    }
    if (schema.contains("const") && value != schema["const"]) errors.push_back(path + ": is not " + schema["const"].dump());
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& e : schema["enum"]) found |= e == value;
      if (!found) errors.push_back(path + ": " + value.dump() + " is not one of " + schema["enum"].dump());
    }
    if (schema.contains("minimum") && value.is_number() && value.get<double>() < schema["minimum"].get<double>()) {
      errors.push_back(path + ": below the minimum");
    }
    if (schema.contains("minLength") && value.is_string() &&
        value.get<std::string>().size() < schema["minLength"].get<std::size_t>()) {
      errors.push_back(path + ": shorter than " + schema["minLength"].dump() + " characters");
    }
    for (const auto& sub : schema.value("allOf", json::array())) validate(value, sub, path, errors);
    if (schema.contains("if")) {
      std::vector<std::string> condition;
      validate(value, schema["if"], path, condition);
      const char* branch = condition.empty() ? "then" : "else";
      if (schema.contains(branch)) validate(value, schema[branch], path, errors);
    }
    if (value.is_object()) {
      for (const auto& r : schema.value("required", json::array())) {
        if (!value.contains(r.get<std::string>())) errors.push_back(path + ": missing required '" + r.get<std::string>() + "'");
      }
      const json props = schema.value("properties", json::object());
      for (const auto& [key, v] : value.items()) {
        if (props.contains(key)) {
          validate(v, props[key], path + "." + key, errors);
        } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
          validate(v, schema["additionalProperties"], path + "." + key, errors);
        }
      }
    }
    if (value.is_array() && schema.contains("items")) {
      for (std::size_t i = 0; i < value.size(); ++i) validate(value[i], schema["items"], path + "[" + std::to_string(i) + "]", errors);
    }
  }

  std::vector<std::string> validate(const json& doc) const {
    std::vector<std::string> errors;
    validate(doc, root_, "$", errors);
    return errors;
  }

 private:
  static bool one_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "integer") return v.is_number_integer();
    if (t == "number") return v.is_number();
    return false;
  }
  static bool type_matches(const json& v, const json& type) {
    if (type.is_string()) return one_type(v, type.get<std::string>());
    for (const auto& t : type) {
      if (one_type(v, t.get<std::string>())) return true;
    }
    return false;
  }
  json root_;
};

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

struct CommandRun {
  int rc;
  std::string out, err;
};

CommandRun run_dpbench(const std::string& args, const fs::path& dir) {
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = std::string(DPBENCH_BINARY) + " " + args + " > " + out.string() + " 2> " + err.string();
  const int status = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

class P2PAndInfoFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dpbench-p2p-schema-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  SchemaValidator validator() const {
    return SchemaValidator(read_json(fs::path(DPBENCH_SCHEMA_PATH)));
  }
  fs::path dir_;
};

TEST_F(P2PAndInfoFiles, P2PFileValidatesAndHoldsTheMatrices) {
  const fs::path file = dir_ / "p2p.json";
  const CommandRun r = run_dpbench("p2p --backend cpu --cpu-devices 3 --size 64K --repeats 2 --devices 0,1,1 --out " + file.string(), dir_);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("SUM unidir_bw_p2p_enabled"), std::string::npos) << r.out;
  const json doc = read_json(file);
  const auto errors = validator().validate(doc);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(doc["command"], "p2p");
  EXPECT_EQ(doc["invocation"]["complete"], true);
  ASSERT_EQ(doc["points"].size(), 1u);
  const json& point = doc["points"][0];
  EXPECT_EQ(point["kind"], "p2p");
  EXPECT_EQ(point["status"], "ok");
  ASSERT_EQ(point["matrices"].size(), 6u);
  for (const auto& m : point["matrices"]) {
    EXPECT_EQ(m["devices"], json::array({0, 1, 1}));
    EXPECT_EQ(m["values"].size(), 3u);
    EXPECT_TRUE(m["values"][1][1].is_null());
    EXPECT_TRUE(m["values"][1][2].is_number());  // positions 1 and 2 share device 1: a local copy
    EXPECT_TRUE(m["average"].is_number());
  }
  EXPECT_EQ(doc["system"]["peers"].size(), 2u);  // distinct devices 0 and 1, both directions
}

TEST_F(P2PAndInfoFiles, InfoFileValidatesAndDescribesSimulatedDevices) {
  const fs::path file = dir_ / "info.json";
  const CommandRun r = run_dpbench("info --backend cpu --cpu-devices 4 --out " + file.string(), dir_);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("simulated devices in host memory: not GPUs"), std::string::npos) << r.out;
  const json doc = read_json(file);
  const auto errors = validator().validate(doc);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(doc["command"], "info");
  EXPECT_EQ(doc["system"]["backend"], "cpu");
  ASSERT_EQ(doc["system"]["devices"].size(), 4u);
  for (const auto& d : doc["system"]["devices"]) EXPECT_EQ(d["kind"], "cpu-simulated");
  EXPECT_EQ(doc["system"]["peers"].size(), 12u);
  EXPECT_TRUE(doc["points"].empty());
}

TEST_F(P2PAndInfoFiles, TheValidatorCatchesABrokenFile) {
  const fs::path file = dir_ / "p2p.json";
  ASSERT_EQ(run_dpbench("p2p --backend cpu --cpu-devices 2 --size 4K --repeats 1 --out " + file.string(), dir_).rc, 0);
  json doc = read_json(file);
  doc["points"][0]["matrices"][0]["values"][0][1] = "fast";
  doc["points"][0].erase("status");
  EXPECT_EQ(validator().validate(doc).size(), 2u);
  doc = read_json(file);
  doc["points"][0]["status"] = "failed";  // a failed point must say why
  EXPECT_EQ(validator().validate(doc).size(), 1u);
  doc["points"][0]["reason"] = "link down";
  EXPECT_TRUE(validator().validate(doc).empty());
}

TEST_F(P2PAndInfoFiles, OneDeviceMeasuresCopiesWithinIt) {
  const CommandRun r = run_dpbench("p2p --backend cpu --cpu-devices 1 --size 4K --repeats 1", dir_);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("0#1"), std::string::npos) << r.out;  // positions 0 and 0#1: device 0 twice
  EXPECT_NE(r.err.find("--devices 0,0"), std::string::npos) << r.err;
}

TEST_F(P2PAndInfoFiles, BadValuesGiveOneErrorLineAndNoFile) {
  const fs::path file = dir_ / "bad.json";
  for (const std::string args : {"p2p --backend cpu --size -1", "p2p --backend cpu --size 1X", "p2p --backend cpu --devices 0,99",
                                 "p2p --backend cpu --repeats abc", "p2p --backend cpu --devices 0", "p2p --backend nope",
                                 "info --backend nope"}) {
    const CommandRun r = run_dpbench(args + " --out " + file.string(), dir_);
    EXPECT_EQ(r.rc, 2) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    EXPECT_FALSE(fs::exists(file)) << args;
  }
}

}  // namespace
}  // namespace dpb
