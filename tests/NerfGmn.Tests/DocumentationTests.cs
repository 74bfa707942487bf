using System.Text.RegularExpressions;

namespace NerfGmn.Tests;

/// <summary>The README and the docs point only at files that exist.</summary>
[TestClass]
public sealed partial class DocumentationTests
{
    static string RepositoryRoot => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [TestMethod]
    public void EveryRelativeLinkInTheReadmeAndDocsPointsToAFile()
    {
        var files = new[] { Path.Combine(RepositoryRoot, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(RepositoryRoot, "docs"), "*.md")).ToList();
        Assert.IsTrue(files.Count >= 2, "README.md and docs/*.md");
        var broken = new List<string>();
        int checkedLinks = 0;
        foreach (var file in files)
            foreach (Match m in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                string target = m.Groups[1].Value;
                if (target.StartsWith('#') || Regex.IsMatch(target, "^[a-z]+:", RegexOptions.IgnoreCase)) continue;
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(target.Split('#')[0])));
                checkedLinks++;
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{Path.GetFileName(file)}: {target}");
            }
        Assert.IsTrue(checkedLinks > 5, $"only {checkedLinks} relative links found");
        Assert.AreEqual(0, broken.Count, "broken links: " + string.Join("; ", broken));
    }
}
