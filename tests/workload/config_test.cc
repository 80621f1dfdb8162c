#include "workload/config.h"

#include <gtest/gtest.h>

namespace vtdsim::workload {
namespace {

ConfigValue parse(const char* text) {
  auto v = parse_toml(text, "s.toml");
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
  return v ? *v : ConfigValue{};
}

TEST(Config, ReadsTypedValuesWithDefaults) {
  const ConfigValue root = parse("a = 5\nb = true\nc = \"lru\"\nd = 2.5\n[t]\nx = 1\n");
  ConfigTable t(root, "s.toml", "");
  EXPECT_EQ(t.get_uint("a", 0, 0, 10).value(), 5u);
  EXPECT_EQ(t.get_uint("missing", 7, 0, 10).value(), 7u);
  EXPECT_TRUE(t.get_bool("b", false).value());
  EXPECT_EQ(t.get_choice("c", "fifo", {"lru", "fifo"}).value(), "lru");
  EXPECT_DOUBLE_EQ(t.get_float("d", 0, 0, 10).value(), 2.5);
  auto sub = t.get_table("t").value();
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->get_uint("x", 0, 0, 1).value(), 1u);
  EXPECT_TRUE(sub->finish().has_value());
  EXPECT_TRUE(t.finish().has_value());
}

TEST(Config, ErrorsNameFileLineAndKeyPath) {
  const ConfigValue root = parse("[unit]\nways = 100\nname = 3\n[unit.iotlb]\nwayz = 4\n");
  ConfigTable top(root, "s.toml", "");
  auto unit = top.get_table("unit").value();
  ASSERT_TRUE(unit.has_value());
  auto w = unit->get_uint("ways", 8, 1, 64);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().message, "s.toml:2: unit.ways: 100 is outside [1, 64]");
  auto n = unit->get_string("name", "");
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().message, "s.toml:3: unit.name: expected a string, got an integer");
  auto iotlb = unit->get_table("iotlb").value();
  ASSERT_TRUE(iotlb.has_value());
  auto fin = iotlb->finish();
  ASSERT_FALSE(fin.has_value());
  EXPECT_EQ(fin.error().message, "s.toml:5: unknown key 'unit.iotlb.wayz'");
}

TEST(Config, BadChoiceListsTheChoices) {
  const ConfigValue root = parse("policy = \"mru\"\n");
  ConfigTable t(root, "s.toml", "");
  auto p = t.get_choice("policy", "lru", {"lru", "plru"});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().message, "s.toml:1: policy: 'mru' is not one of lru, plru");
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  auto v = parse_toml("a = 1\nb = = 2\n", "bad.toml");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kParse);
  EXPECT_EQ(v.error().message.rfind("bad.toml:2:", 0), 0u) << v.error().message;
}

TEST(Config, TableArraysAreIndexedInPaths) {
  const ConfigValue root = parse("[[unit]]\nnfr = 4\n[[unit]]\nnfr = 999\n");
  ConfigTable t(root, "s.toml", "");
  auto units = t.get_table_array("unit").value();
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[0].get_uint("nfr", 1, 1, 256).value(), 4u);
  auto bad = units[1].get_uint("nfr", 1, 1, 256);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "s.toml:4: unit[1].nfr: 999 is outside [1, 256]");
}

}  // namespace
}  // namespace vtdsim::workload
