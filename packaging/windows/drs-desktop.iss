; DRS Desktop for Windows: an Inno Setup 6 script (6.3 or later, for x64compatible) that installs the
; PyInstaller bundle for the current user only: no administrator rights, no UAC prompt.
;
; Build, from the top of the repository, on Windows (docs/packaging.md has every step):
;   pyinstaller --noconfirm --clean build.spec
;   for /f %v in ('python -c "import drs_desktop; print(drs_desktop.__version__)"') do set DRS_VERSION=%v
;   iscc /DAppVersion=%DRS_VERSION% packaging\windows\drs-desktop.iss
; Output: dist\drs-desktop-<version>-windows-x64-setup.exe
;
; NOT BUILT OR TESTED HERE: the project's build machine is Linux; this script is written from Inno Setup's
; documentation. tests/packaging/test_installer_scripts.py checks what can be checked without Windows.
;
; Uninstalling removes the program folder, the shortcuts and the PATH entry it added. It never touches
; the user's data (%LOCALAPPDATA%\drs-desktop: plans, run history, reports, the database and its backups)
; nor the access keys in Windows Credential Manager (entries of the service "drs-desktop"), so that a
; reinstall or an upgrade finds them; the finished page and the uninstaller both say so.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<drs_desktop.__version__> packaging\windows\drs-desktop.iss
#endif

#define AppName "DRS Desktop"
#define AppExe "drs-desktop.exe"
#define DataFolder "drs-desktop"

[Setup]
; The AppId names this application to Windows and to later installers (upgrades find the installed copy
; by it): never change it.
AppId={{5779396A-6FF5-4591-8F0D-14AAFC148409}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=DRS Desktop maintainers
; Every relative path below (the bundle, the icon, the output) is from the top of the repository.
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=drs-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile=resources\icons\drs-desktop.ico
; Per user: %LOCALAPPDATA%\Programs\DRS Desktop, the shortcuts in the user's own Start menu.
PrivilegesRequired=lowest
DefaultDirName={userpf}\{#AppName}
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Uninstallable=yes
; The bundle is 64-bit (PySide6 ships x64 wheels): x64 Windows, or Arm64 Windows 11 with its x64 emulation.
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
WizardStyle=modern
Compression=lzma2
SolidCompression=yes
; A running DRS Desktop is asked to close (Restart Manager) before its files are replaced.
CloseApplications=yes
; The optional PATH entry: Explorer and new terminals are told the environment changed.
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
CommandLine=Command line:
AddToPath=Add the program folder to my PATH, so that "drs-desktop" runs from a terminal
KeptData=Your plans, run history and reports are in%n%1%nand the access keys you saved are in Windows Credential Manager (entries "drs-desktop"). Uninstalling keeps both.
KeptAfterUninstall=DRS Desktop was removed. Your data was kept:%n%n%1%n(plans, run history, reports, the database and its backups)%n%nand the access keys you saved in Windows Credential Manager (entries "drs-desktop").%n%nDelete them by hand if you no longer need them.

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "{cm:AddToPath}"; GroupDescription: "{cm:CommandLine}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: a library the new version no longer ships must not stay behind
; next to the new ones (only the program folder's _internal; never the user's data).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; The whole PyInstaller one-folder bundle: drs-desktop.exe and _internal\ with everything under it.
Source: "dist\drs-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Comment: "Recovery plans and drills for AWS Elastic Disaster Recovery"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon
Name: "{autoprograms}\Uninstall {#AppName}"; Filename: "{uninstallexe}"; Comment: "Removes the program; your data and saved keys stay"

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only inside the program folder. The user's data folder and Credential Manager are left alone on purpose.
Type: filesandordirs; Name: "{app}\_internal"

[Code]
const
  EnvironmentKey = 'Environment';

function DataDir(): String;
begin
  { platformdirs.user_data_dir("drs-desktop", appauthor=False) on Windows: %LOCALAPPDATA%\drs-desktop }
  Result := ExpandConstant('{localappdata}\{#DataFolder}');
end;

function SameDir(A, B: String): Boolean;
begin
  Result := CompareText(RemoveBackslashUnlessRoot(Trim(A)), RemoveBackslashUnlessRoot(Trim(B))) = 0;
end;

{ The user's own PATH (HKCU\Environment), entry by entry: add the program folder once, or take it out. }
procedure SetInUserPath(Dir: String; Wanted: Boolean);
var
  Paths, Rest, Entry, Kept: String;
  Cut: Integer;
  Found: Boolean;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, EnvironmentKey, 'Path', Paths) then
    Paths := '';
  Kept := '';
  Found := False;
  Rest := Paths + ';';
  while Rest <> '' do
  begin
    Cut := Pos(';', Rest);
    Entry := Copy(Rest, 1, Cut - 1);
    Rest := Copy(Rest, Cut + 1, Length(Rest));
    if SameDir(Entry, Dir) then
      Found := True
    else if Entry <> '' then
    begin
      if Kept <> '' then
        Kept := Kept + ';';
      Kept := Kept + Entry;
    end;
  end;
  if Wanted and not Found then
  begin
    if Kept <> '' then
      Kept := Kept + ';';
    RegWriteExpandStringValue(HKEY_CURRENT_USER, EnvironmentKey, 'Path', Kept + Dir);
  end
  else if Found and not Wanted then
    RegWriteExpandStringValue(HKEY_CURRENT_USER, EnvironmentKey, 'Path', Kept);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssPostInstall then
    SetInUserPath(ExpandConstant('{app}'), WizardIsTaskSelected('addtopath'));
end;

procedure CurPageChanged(CurPageID: Integer);
begin
  if CurPageID = wpFinished then
    WizardForm.FinishedLabel.Caption := WizardForm.FinishedLabel.Caption + #13#10#13#10 +
      FmtMessage(CustomMessage('KeptData'), [DataDir()]);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
    SetInUserPath(ExpandConstant('{app}'), False);
  if (CurUninstallStep = usPostUninstall) and not UninstallSilent() then
    MsgBox(FmtMessage(CustomMessage('KeptAfterUninstall'), [DataDir()]), mbInformation, MB_OK);
end;
