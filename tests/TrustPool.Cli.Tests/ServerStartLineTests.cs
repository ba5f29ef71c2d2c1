using TrustPool.Cli.Commands;

namespace TrustPool.Cli.Tests;

/// <summary>The start-up line about the admin token says what is on disk (issue 15: a second instance named a file it never wrote).</summary>
public sealed class ServerStartLineTests
{
    [Fact]
    public void FirstStart_SaysWrittenWithMode()
    {
        Assert.Equal("admin token written to /d/admin.token (mode 0600)", ServerCommand.AdminTokenLine(firstStart: true, "/d/admin.token", exists: true));
    }

    [Fact]
    public void LaterStart_FileThere_NamesIt()
    {
        Assert.Equal("admin token file: /d/admin.token", ServerCommand.AdminTokenLine(firstStart: false, "/d/admin.token", exists: true));
    }

    [Fact]
    public void JoinedDatabaseWithTokens_NoFile_SaysSoAndWhatToDo()
    {
        var line = ServerCommand.AdminTokenLine(firstStart: false, "/d/admin.token", exists: false);
        Assert.StartsWith("no admin token file at /d/admin.token", line, StringComparison.Ordinal);
        Assert.Contains("trustpool token create", line, StringComparison.Ordinal);
        Assert.DoesNotContain("admin token file: ", line, StringComparison.Ordinal);
    }
}
