using System.Text.Json.Nodes;

namespace NerfGmn.Tests;

[TestClass]
public class SettingsDiffTests
{
    static JsonObject J(string json) => JsonNode.Parse(json)!.AsObject();

    [TestMethod]
    public void NamesChangedKeysWithBothValues()
    {
        var d = SettingsDiff.Of(J("""{"Seed":0,"Fit":{"Steps":300,"Lr":0.1},"Root":"a"}"""), J("""{"Seed":5,"Fit":{"Steps":600,"Lr":0.1},"Root":"b"}"""), ["Root"]);
        CollectionAssert.AreEqual(new[] { "Seed 0 → 5", """Fit {"Steps":300,"Lr":0.1} → {"Steps":600,"Lr":0.1}""" }, d);
    }

    [TestMethod]
    public void SettingsAddedLaterCountAsUnchanged()
    {
        Assert.AreEqual(0, SettingsDiff.Of(J("""{"Seed":0,"Fit":{"Steps":300}}"""), J("""{"Seed":0,"New":true,"Fit":{"Steps":300,"Extra":1}}""")).Length);
        Assert.AreEqual(1, SettingsDiff.Of(J("""{"A":null}"""), J("""{"A":[1]}""")).Length, "a saved null is a value");
    }
}
